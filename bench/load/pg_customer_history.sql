\set c random(0, :customers - 1)
SELECT id, customer_id, contact_key, service_type, started_ms, completed_ms, doc FROM services
  WHERE customer_id = 'C' || lpad(:c::text, 7, '0')
    AND started_ms >= :end_ms - 2592000000 AND started_ms < :end_ms
  ORDER BY started_ms DESC, id DESC;

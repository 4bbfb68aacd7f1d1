\set k random(0, :keys - 1)
SELECT id, contact_key, service_type, started_ms, doc FROM services
  WHERE customer_id IS NULL AND contact_key = '+1408' || lpad(:k::text, 7, '0')
    AND completed_ms IS NULL
  ORDER BY started_ms DESC, id DESC;

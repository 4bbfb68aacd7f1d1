-- Three durable transactions, as contextd's start service, start state, complete service.
\set n random(0, 9999999)
INSERT INTO services (id, customer_id, contact_key, service_type, started_ms, doc)
  VALUES (nextval('service_ids'), 'W' || lpad((:n % 100000)::text, 7, '0'),
          '+1555' || lpad(:n::text, 7, '0'), 'NewAccount',
          (extract(epoch from clock_timestamp()) * 1000)::bigint,
          '{"started":{"media_type":"voice"}}')
  RETURNING id \gset
INSERT INTO states (service_id, state_id, state_type, started_ms)
  VALUES (:id, 0, 1, (extract(epoch from clock_timestamp()) * 1000)::bigint);
UPDATE services SET completed_ms = (extract(epoch from clock_timestamp()) * 1000)::bigint,
                    doc = doc || '{"completed":{"disposition":"Sold"}}'
  WHERE id = :id;

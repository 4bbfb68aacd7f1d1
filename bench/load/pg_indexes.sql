CREATE INDEX services_anonymous_active ON services (contact_key, started_ms DESC, id DESC)
  WHERE customer_id IS NULL AND completed_ms IS NULL;
CREATE INDEX services_customer_active ON services (customer_id, started_ms DESC, id DESC)
  WHERE completed_ms IS NULL;
CREATE INDEX services_customer_started ON services (customer_id, started_ms DESC, id DESC);
CREATE INDEX services_anonymous_started ON services (contact_key, started_ms DESC, id DESC)
  WHERE customer_id IS NULL;
VACUUM ANALYZE services;
VACUUM ANALYZE states;
CREATE EXTENSION IF NOT EXISTS pg_prewarm;
SELECT pg_prewarm(c.oid) FROM pg_class c
  WHERE c.relname IN ('services', 'states', 'services_pkey', 'states_pkey',
                      'services_anonymous_active', 'services_customer_active',
                      'services_customer_started', 'services_anonymous_started');

-- The PostgreSQL side of `make bench`: the same data, the indexes a competent engineer would
-- create for these queries.
CREATE TABLE services (
  id bigint PRIMARY KEY,
  customer_id text,
  contact_key text NOT NULL,
  service_type text,
  started_ms bigint NOT NULL,
  completed_ms bigint,
  doc jsonb NOT NULL,     -- what the reads return: started and completed data
  attached jsonb          -- attached data (the Offer), stored and not returned, as in contextd
);
CREATE TABLE states (
  service_id bigint NOT NULL,
  state_id int NOT NULL,
  state_type int,
  started_ms bigint NOT NULL,
  completed_ms bigint,
  PRIMARY KEY (service_id, state_id)
);
CREATE SEQUENCE service_ids START 100000000;

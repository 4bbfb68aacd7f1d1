\set c random(0, :customers - 1)
SELECT s.id, s.customer_id, s.contact_key, s.service_type, s.started_ms, s.doc,
       (SELECT json_agg(json_build_object('state_id', st.state_id, 'state_type', st.state_type,
                                          'started_ms', st.started_ms) ORDER BY st.state_id)
          FROM states st WHERE st.service_id = s.id AND st.completed_ms IS NULL) AS active_states
  FROM services s
  WHERE s.customer_id = 'C' || lpad(:c::text, 7, '0') AND s.completed_ms IS NULL
  ORDER BY s.started_ms DESC, s.id DESC;

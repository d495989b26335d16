-- The event-bus relay (issue 20): each event is marked once the broker confirmed it. The relay
-- publishes unmarked events in position order (so each aggregate's in aggregate_seq order) and
-- marks them after the broker's confirmation: a crash in between publishes them again, same id.
ALTER TABLE domain_events ADD COLUMN relayed_at timestamptz;
CREATE INDEX domain_events_unrelayed_idx ON domain_events (position) WHERE relayed_at IS NULL;

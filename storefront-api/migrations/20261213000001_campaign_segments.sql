-- A campaign's audience may be narrowed to a customer group or segment: its members as they
-- stand each time customers are enrolled. Segments are never deleted while a campaign names
-- one.
ALTER TABLE campaigns
    ADD COLUMN segment_id uuid REFERENCES customer_segments (id) ON DELETE RESTRICT;

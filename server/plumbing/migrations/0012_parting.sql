-- Parting: a former partner is seen as they were at unlinking, and the former couple's shared
-- data is erased 30 days after it; old records are swept on a schedule.

-- Each former partner's name as it was when the couple was unlinked (null while linked):
-- every read of a former couple uses it, never the live account.
ALTER TABLE couple_partners ADD COLUMN display_name text;
UPDATE couple_partners p SET display_name = u.display_name
FROM couples c, users u
WHERE c.id = p.couple_id AND c.unlinked_at IS NOT NULL AND u.id = p.user_id;

-- An account erased after its couple was unlinked leaves the former partner's copy as it was
-- (it goes on day 30 with the rest of the couple): these rows no longer follow the account.
ALTER TABLE couple_partners DROP CONSTRAINT couple_partners_user_id_fkey;
ALTER TABLE ritual_checkins DROP CONSTRAINT ritual_checkins_user_id_fkey;

ALTER TABLE due_items DROP CONSTRAINT due_items_kind_check;
ALTER TABLE due_items ADD CONSTRAINT due_items_kind_check CHECK (kind IN (
    'reading_reminder', 'ritual_reminder', 'pause_expiry', 'alert', 'retry', 'couple_erasure'
));

-- A couple's due rows, found by its couple (unlinking drops them, its erasure cascades to them)
-- without reading the whole table.
CREATE INDEX due_items_couple ON due_items (couple_id);

-- Couples unlinked before this migration are erased 30 days after their unlinking too.
INSERT INTO due_items (kind, couple_id, subject_id, occurrence, due_at, grace_until)
SELECT 'couple_erasure', id, id, id::text, unlinked_at + interval '30 days', NULL
FROM couples WHERE unlinked_at IS NOT NULL
ON CONFLICT DO NOTHING;

-- Which couple a notification was about, so the couple's erasure finds its records.
ALTER TABLE notifications ADD COLUMN couple_id uuid;
UPDATE notifications SET couple_id = (data ->> 'couple_id')::uuid WHERE data ? 'couple_id';
CREATE INDEX notifications_couple ON notifications (couple_id);

-- What the sweeps delete by: each a bounded, indexed DELETE.
CREATE INDEX rate_limit_hits_scope_at ON rate_limit_hits (scope, at);
CREATE INDEX rate_limit_hits_subject ON rate_limit_hits (subject);
-- An invite is spent when it is used, revoked or expired, whichever came first.
CREATE INDEX invites_spent ON invites ((least(used_at, revoked_at, expires_at)));
CREATE INDEX missed_items_found ON missed_items (found_at);

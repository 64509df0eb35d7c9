-- Privacy between partners: whether the partner may see this person online, and whether
-- their lock screen shows only one neutral text.

ALTER TABLE users ADD COLUMN share_presence boolean NOT NULL DEFAULT true;

ALTER TABLE notification_prefs ADD COLUMN discreet boolean NOT NULL DEFAULT false;

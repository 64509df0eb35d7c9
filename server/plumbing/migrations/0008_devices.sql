-- The phones each person receives notifications on, and what they want to be told.

CREATE TABLE devices (
    user_id         uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    installation_id text NOT NULL,
    fcm_token       text NOT NULL,
    platform        text NOT NULL CHECK (platform IN ('ios', 'android', 'web')),
    locale          text,
    app_version     text,
    -- When the app last registered the token: one not refreshed for 60 days is not used.
    registered_at   timestamptz NOT NULL,
    PRIMARY KEY (user_id, installation_id)
);
-- A token belongs to one installation of one account at a time.
CREATE UNIQUE INDEX devices_token ON devices (fcm_token);

CREATE TABLE notification_prefs (
    user_id          uuid PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    reading_reminder boolean NOT NULL DEFAULT true,
    ritual_reminders boolean NOT NULL DEFAULT true,
    pause_alerts     boolean NOT NULL DEFAULT true,
    partner_activity boolean NOT NULL DEFAULT true,
    quiet_start      text,
    quiet_end        text
);

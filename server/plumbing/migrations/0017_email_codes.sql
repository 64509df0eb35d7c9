-- One table for every single-use code sent by mail: a password reset, a sign-up, a sign-in
-- from an installation the account has not seen while others' guesses fill its window. The
-- rows are the password resets' (0014), with what each code is for.
ALTER TABLE password_resets RENAME TO email_codes;
ALTER TABLE email_codes RENAME CONSTRAINT password_resets_pkey TO email_codes_pkey;
ALTER TABLE email_codes RENAME CONSTRAINT password_resets_user_id_fkey TO email_codes_user_id_fkey;
ALTER INDEX password_resets_code RENAME TO email_codes_code;
ALTER INDEX password_resets_user RENAME TO email_codes_user;
ALTER INDEX password_resets_expires RENAME TO email_codes_expires;

-- reset, sign_up or sign_in (server/accounts/codes.py). Codes live before this migration were resets.
ALTER TABLE email_codes ADD COLUMN purpose text NOT NULL DEFAULT 'reset';
ALTER TABLE email_codes ALTER COLUMN purpose DROP DEFAULT;
-- Wrong passwords typed with a sign-in code: at five the code stops admitting anyone.
ALTER TABLE email_codes ADD COLUMN wrong_passwords integer NOT NULL DEFAULT 0;

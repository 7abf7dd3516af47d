-- The identity store (src/store/identity.ts): principals, their grants, their API tokens. The rules
-- the code checks are checked here too, so a row written by hand obeys them as well.

CREATE TABLE principals (
  id uuid PRIMARY KEY,
  name text NOT NULL UNIQUE CHECK (name ~ '^[A-Za-z0-9._@:-]{1,128}$'),
  kind text NOT NULL CHECK (kind IN ('person', 'region', 'service')),
  created_at timestamptz NOT NULL,
  disabled_at timestamptz
);

-- A region grant names its region; no other grant names one.
CREATE TABLE grants (
  principal_id uuid NOT NULL REFERENCES principals (id) ON DELETE CASCADE,
  role text NOT NULL CHECK (role IN ('admin', 'operator', 'auditor', 'region')),
  region text CHECK (region ~ '^[a-z0-9_-]{1,64}$'),
  CHECK ((role = 'region') = (region IS NOT NULL))
);
CREATE UNIQUE INDEX grants_once ON grants (principal_id, role, COALESCE(region, ''));

-- Never the token: the SHA-256 of its secret (what verify compares) and, for tokens that log in to
-- nats-server (their principal had a region or auditor grant when issued), a bcrypt of the whole
-- token (what nats-server 2.9 compares when the token is a NATS user's password).
CREATE TABLE tokens (
  id text PRIMARY KEY CHECK (id ~ '^[a-z2-7]{16}$'),
  principal_id uuid NOT NULL REFERENCES principals (id) ON DELETE CASCADE,
  name text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 128),
  secret_sha256 bytea NOT NULL CHECK (length(secret_sha256) = 32),
  bcrypt text,
  created_at timestamptz NOT NULL,
  expires_at timestamptz,
  last_used_at timestamptz,
  revoked_at timestamptz
);
CREATE INDEX tokens_principal ON tokens (principal_id);

-- Each user's language (SPEC section 12). NULL: the dealership's default (the basic setting
-- "language"), and without that the install default LEADCORE_LANGUAGE.
ALTER TABLE users ADD COLUMN language VARCHAR;

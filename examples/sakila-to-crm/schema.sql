-- The new CRM for examples/sakila-to-crm (PostgreSQL): people and their addresses with UUID keys; the DVD
-- store's payments become orders and its rentals activities, both referring to people by those keys.
CREATE TABLE addresses (
  id uuid PRIMARY KEY,
  street text NOT NULL,
  street_2 text,
  district text,
  postal_code text,
  phone text,
  legacy_city_id integer
);
CREATE TABLE people (
  id uuid PRIMARY KEY,
  legacy_id integer NOT NULL,
  first_name text NOT NULL,
  last_name text NOT NULL,
  email text,
  active boolean NOT NULL,
  customer_since date,
  address_id uuid REFERENCES addresses (id)
);
CREATE TABLE orders (
  id uuid PRIMARY KEY,
  person_id uuid NOT NULL REFERENCES people (id),
  amount numeric NOT NULL,
  paid_at timestamptz NOT NULL
);
CREATE TABLE activities (
  id uuid PRIMARY KEY,
  person_id uuid NOT NULL REFERENCES people (id),
  kind text NOT NULL,
  started_at timestamptz NOT NULL,
  ended_at timestamptz
);

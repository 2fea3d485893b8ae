-- The new CRM for examples/crm-export: organisations, products and sales agents with UUID keys, and deals
-- that refer to them by those keys.
CREATE TABLE organisations (
  id uuid PRIMARY KEY,
  name text NOT NULL,
  sector text,
  founded integer,
  revenue_musd numeric,
  employees integer,
  country text,
  parent_name text
);
CREATE TABLE products (
  id uuid PRIMARY KEY,
  name text NOT NULL,
  series text,
  list_price numeric
);
CREATE TABLE sales_agents (
  id uuid PRIMARY KEY,
  name text NOT NULL,
  manager text,
  region text
);
CREATE TABLE deals (
  id text PRIMARY KEY,
  agent_id uuid REFERENCES sales_agents (id),
  product_id uuid REFERENCES products (id),
  organisation_id uuid REFERENCES organisations (id),
  stage text NOT NULL,
  engaged_on date,
  closed_on date,
  value integer
);

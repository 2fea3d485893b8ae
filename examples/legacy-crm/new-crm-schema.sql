-- The new CRM's customer table, as its vendor ships it.
CREATE TABLE new_crm_customers (
  id             INTEGER PRIMARY KEY,
  honorific      VARCHAR(20),
  first_name     VARCHAR(50),
  middle_name    VARCHAR(50),
  last_name      VARCHAR(60) NOT NULL,
  suffix         VARCHAR(20),
  email          VARCHAR(254),
  phone          VARCHAR(40),
  address        TEXT,
  status         VARCHAR(10) NOT NULL,
  customer_since DATE,
  source_system  VARCHAR(20) NOT NULL
);

-- The tables of Odoo 17 (Community) that a vtiger migration fills, on PostgreSQL, as Odoo's ORM creates them
-- from the models of the base, mail and crm modules: the same names, types, NOT NULL columns, unique and check
-- constraints and foreign keys (ON DELETE as the fields declare it). Columns the migration leaves alone are
-- left out. Written by us from Odoo's public model definitions (odoo/addons/base/models/res_partner.py,
-- res_users.py, res_company.py; addons/crm/models/crm_lead.py, crm_stage.py; addons/mail/models/mail_message.py).
--
-- Odoo fills its defaults in Python, not in the database: a row written by SQL gets none of them. The plan
-- writes what Odoo would (active = true, type = 'contact', message_type = 'comment'): a partner whose active
-- is NULL is archived in Odoo's eyes.

CREATE TABLE res_company (
  id serial PRIMARY KEY,
  name varchar NOT NULL,
  partner_id integer NOT NULL,
  currency_id integer NOT NULL DEFAULT 1,
  active boolean,
  CONSTRAINT res_company_name_uniq UNIQUE (name)
);

CREATE TABLE res_partner (
  id serial PRIMARY KEY,
  name varchar,
  complete_name varchar,
  parent_id integer REFERENCES res_partner (id) ON DELETE SET NULL,
  user_id integer,
  company_id integer REFERENCES res_company (id) ON DELETE SET NULL,
  type varchar,
  ref varchar,
  lang varchar,
  website varchar,
  comment text,
  function varchar,
  street varchar,
  street2 varchar,
  zip varchar,
  city varchar,
  email varchar,
  phone varchar,
  mobile varchar,
  is_company boolean,
  active boolean,
  create_date timestamp without time zone,
  write_date timestamp without time zone,
  CONSTRAINT res_partner_check_name CHECK (type = 'contact' AND name IS NOT NULL OR type <> 'contact')
);
CREATE INDEX res_partner_parent_id_index ON res_partner (parent_id);

ALTER TABLE res_company ADD FOREIGN KEY (partner_id) REFERENCES res_partner (id) ON DELETE RESTRICT;

CREATE TABLE res_users (
  id serial PRIMARY KEY,
  login varchar NOT NULL,
  partner_id integer NOT NULL REFERENCES res_partner (id) ON DELETE RESTRICT,
  company_id integer NOT NULL REFERENCES res_company (id) ON DELETE RESTRICT,
  active boolean DEFAULT true,
  share boolean,
  CONSTRAINT res_users_login_key UNIQUE (login)
);
ALTER TABLE res_partner ADD FOREIGN KEY (user_id) REFERENCES res_users (id) ON DELETE SET NULL;

-- A translated field is jsonb in Odoo 17: { "en_US": "New" }.
CREATE TABLE crm_stage (
  id serial PRIMARY KEY,
  name jsonb NOT NULL,
  sequence integer,
  is_won boolean,
  fold boolean
);

CREATE TABLE crm_lead (
  id serial PRIMARY KEY,
  name varchar NOT NULL,
  type varchar NOT NULL,
  partner_id integer REFERENCES res_partner (id) ON DELETE SET NULL,
  user_id integer REFERENCES res_users (id) ON DELETE SET NULL,
  stage_id integer REFERENCES crm_stage (id) ON DELETE RESTRICT,
  company_id integer REFERENCES res_company (id) ON DELETE SET NULL,
  expected_revenue numeric,
  probability double precision,
  date_deadline date,
  email_from varchar,
  phone varchar,
  description text,
  active boolean,
  create_date timestamp without time zone,
  write_date timestamp without time zone,
  CONSTRAINT crm_lead_check_probability CHECK (probability >= 0 AND probability <= 100)
);
CREATE INDEX crm_lead_stage_id_index ON crm_lead (stage_id);

-- The chatter: a message on any record, as the record's model and id (no foreign key: res_id is any table's).
CREATE TABLE mail_message (
  id serial PRIMARY KEY,
  subject varchar,
  date timestamp without time zone,
  body text,
  model varchar,
  res_id integer,
  record_name varchar,
  message_type varchar NOT NULL,
  author_id integer REFERENCES res_partner (id) ON DELETE SET NULL,
  create_date timestamp without time zone,
  write_date timestamp without time zone
);
CREATE INDEX mail_message_model_res_id_idx ON mail_message (model, res_id);

-- What a fresh Odoo holds before the migration: the company, its users (invited by email, their login), and
-- the pipeline's stages. Their ids are Odoo's first ones.
INSERT INTO res_partner (id, name, type, is_company, active) VALUES (1, 'My Company', 'contact', true, true);
INSERT INTO res_company (id, name, partner_id, active) VALUES (1, 'My Company', 1, true);
INSERT INTO res_partner (id, name, type, is_company, active, company_id) VALUES
  (2, 'Ann Lee', 'contact', false, true, 1),
  (3, 'Raj Patel', 'contact', false, true, 1),
  (4, 'Eva Novak', 'contact', false, true, 1),
  (5, 'Tom Berg', 'contact', false, true, 1);
INSERT INTO res_users (id, login, partner_id, company_id, active, share) VALUES
  (2, 'ann.lee@example.com', 2, 1, true, false),
  (3, 'raj.patel@example.com', 3, 1, true, false),
  (4, 'eva.novak@example.com', 4, 1, true, false),
  (5, 'tom.berg@example.com', 5, 1, true, false);
INSERT INTO crm_stage (id, name, sequence, is_won, fold) VALUES
  (1, '{"en_US": "New"}', 1, false, false),
  (2, '{"en_US": "Qualified"}', 2, false, false),
  (3, '{"en_US": "Proposition"}', 3, false, false),
  (4, '{"en_US": "Won"}', 70, true, false);
SELECT setval('res_partner_id_seq', 5), setval('res_company_id_seq', 1), setval('res_users_id_seq', 5), setval('crm_stage_id_seq', 4);

-- Demo data for a local database (`make db`, `make demo`, `supabase start`): one hotel group
-- with a property in Berlin, a generic PMS connection, a WhatsApp (WAHA) connection to the
-- local simulator, templates in English and German, and the usual automation rules.
-- Every value here is for local use only.

-- The demo users sign in through Auth with the password "demo-password" (README.md): the demo
-- hotel's owner, admin and front desk (staff), and the owner of a second hotel, to see isolation.
insert into auth.users (instance_id, id, email, role, aud, email_confirmed_at, encrypted_password,
                        raw_app_meta_data, raw_user_meta_data, created_at, updated_at)
select '00000000-0000-0000-0000-000000000000', id::uuid, email, 'authenticated', 'authenticated', now(),
       extensions.crypt('demo-password', extensions.gen_salt('bf', 10)),
       '{"provider": "email", "providers": ["email"]}', '{}', now(), now()
from (values
  ('d0000000-0000-4000-8000-000000000001', 'owner@demo-hotel.test'),
  ('d0000000-0000-4000-8000-000000000002', 'frontdesk@demo-hotel.test'),
  ('d0000000-0000-4000-8000-000000000003', 'admin@demo-hotel.test'),
  ('d0000000-0000-4000-8000-000000000004', 'owner@second-hotel.test')
) as demo (id, email);

-- Auth's e-mail identity for each, as Auth creates it on sign-up.
insert into auth.identities (provider_id, user_id, identity_data, provider, created_at, updated_at)
select id::text, id, jsonb_build_object('sub', id::text, 'email', email, 'email_verified', true), 'email', now(), now()
from auth.users where id::text like 'd0000000-0000-4000-8000-%';

insert into public.tenants (id, name, webhook_key, default_language)
values ('d1000000-0000-4000-8000-000000000001', 'Demo Hotel Group', 'demo-hotel-webhook-key', 'en');

insert into public.tenant_members (tenant_id, user_id, role)
values
  ('d1000000-0000-4000-8000-000000000001', 'd0000000-0000-4000-8000-000000000001', 'owner'),
  ('d1000000-0000-4000-8000-000000000001', 'd0000000-0000-4000-8000-000000000002', 'staff'),
  ('d1000000-0000-4000-8000-000000000001', 'd0000000-0000-4000-8000-000000000003', 'admin');

-- A second hotel group with only its owner: what she sees of the demo hotel is nothing.
insert into public.tenants (id, name, webhook_key, default_language)
values ('d1000000-0000-4000-8000-000000000002', 'Second Hotel Group', 'second-hotel-webhook-key', 'en');

insert into public.tenant_members (tenant_id, user_id, role)
values ('d1000000-0000-4000-8000-000000000002', 'd0000000-0000-4000-8000-000000000004', 'owner');

insert into public.properties (id, tenant_id, name, timezone, pms_property_id, check_in_time, check_out_time)
values ('d2000000-0000-4000-8000-000000000001', 'd1000000-0000-4000-8000-000000000001',
        'Demo Hotel Berlin Mitte', 'Europe/Berlin', 'BER', '15:00', '11:00');

insert into public.pms_configurations (id, tenant_id, provider, auth_scheme, api_base_url, sync_interval_minutes)
values ('d3000000-0000-4000-8000-000000000001', 'd1000000-0000-4000-8000-000000000001', 'generic',
        'standard_webhooks', 'http://127.0.0.1:54330', 15);

select public.set_pms_credentials('d3000000-0000-4000-8000-000000000001', '{"api_key": "demo-pms-api-key"}');

-- The generic PMS signs with this Standard Webhooks secret (base64 of "demo-hotel-pms-webhook-secret").
select public.set_pms_webhook_secret('d3000000-0000-4000-8000-000000000001',
  'whsec_ZGVtby1ob3RlbC1wbXMtd2ViaG9vay1zZWNyZXQ=');

insert into public.waha_configurations (id, tenant_id, base_url, session_name, session_status, send_gap_min_ms, send_gap_max_ms)
values ('d4000000-0000-4000-8000-000000000001', 'd1000000-0000-4000-8000-000000000001',
        'http://127.0.0.1:54331', 'default', 'STOPPED', 200, 600);

select public.set_waha_api_key('d4000000-0000-4000-8000-000000000001', 'demo-waha-api-key');

insert into public.message_templates (tenant_id, key, language, body)
values
  ('d1000000-0000-4000-8000-000000000001', 'booking_confirmation', 'en',
   'Hello {{guest_first_name}}, your stay at {{property_name}} from {{arrival_date}} to {{departure_date}} is confirmed. We look forward to welcoming you!'),
  ('d1000000-0000-4000-8000-000000000001', 'booking_confirmation', 'de',
   'Hallo {{guest_first_name}}, Ihr Aufenthalt im {{property_name}} vom {{arrival_date}} bis {{departure_date}} ist bestätigt. Wir freuen uns auf Sie!'),
  ('d1000000-0000-4000-8000-000000000001', 'pre_arrival', 'en',
   'Hi {{guest_first_name}}, {{nights}} nights at {{property_name}} start on {{arrival_date}}. Check-in opens at {{check_in_time}}.'),
  ('d1000000-0000-4000-8000-000000000001', 'pre_arrival', 'de',
   'Hallo {{guest_first_name}}, Ihre {{nights}} Nächte im {{property_name}} beginnen am {{arrival_date}}. Check-in ab {{check_in_time}} Uhr.'),
  ('d1000000-0000-4000-8000-000000000001', 'welcome', 'en',
   'Welcome to {{property_name}}, {{guest_first_name}}! Your room is ready from {{check_in_time}}.'),
  ('d1000000-0000-4000-8000-000000000001', 'welcome', 'de',
   'Willkommen im {{property_name}}, {{guest_first_name}}! Ihr Zimmer ist ab {{check_in_time}} Uhr bereit.'),
  ('d1000000-0000-4000-8000-000000000001', 'review_request', 'en',
   'Thank you for staying at {{property_name}}, {{guest_first_name}}. How was it? We would love a short review.'),
  ('d1000000-0000-4000-8000-000000000001', 'review_request', 'de',
   'Danke für Ihren Aufenthalt im {{property_name}}, {{guest_first_name}}. Wie war es? Wir freuen uns über eine kurze Bewertung.'),
  ('d1000000-0000-4000-8000-000000000001', 'cancellation_notice', 'en',
   'Hello {{guest_first_name}}, your reservation {{reservation_id}} at {{property_name}} has been cancelled.'),
  ('d1000000-0000-4000-8000-000000000001', 'cancellation_notice', 'de',
   'Hallo {{guest_first_name}}, Ihre Reservierung {{reservation_id}} im {{property_name}} wurde storniert.');

insert into public.automation_rules (tenant_id, name, trigger, offset_days, send_at_local, template_key)
values
  ('d1000000-0000-4000-8000-000000000001', 'Booking confirmation', 'booking_confirmed', 0, null, 'booking_confirmation'),
  ('d1000000-0000-4000-8000-000000000001', 'Pre-arrival details', 'before_arrival', 3, '10:00', 'pre_arrival'),
  ('d1000000-0000-4000-8000-000000000001', 'Arrival-day welcome', 'arrival_day', 0, '14:00', 'welcome'),
  ('d1000000-0000-4000-8000-000000000001', 'Review request', 'after_departure', 1, '11:00', 'review_request'),
  ('d1000000-0000-4000-8000-000000000001', 'Cancellation notice', 'booking_cancelled', 0, null, 'cancellation_notice');

-- SQL surface of supabase/pg_net 0.19: the queue tables and the request functions. The real
-- extension's background worker drains the queue; here a test or the local dispatcher does.

create schema if not exists net;

create domain net.http_method as text
check (value ilike 'get' or value ilike 'post' or value ilike 'delete');

create unlogged table net.http_request_queue (
  id bigserial,
  method net.http_method not null,
  url text not null,
  headers jsonb,
  body bytea,
  timeout_milliseconds integer not null
);

create unlogged table net._http_response (
  id bigint,
  status_code integer,
  content_type text,
  headers jsonb,
  content text,
  timed_out boolean,
  error_msg text,
  created timestamptz not null default now()
);

create index on net._http_response (created);

create function net.wake() returns void
language sql
as $$ select $$;

create function net._urlencode_string(string varchar) returns text
language sql immutable strict
as $$
  select string_agg(
    case
      when ch ~ '[A-Za-z0-9_.~-]' then ch
      else regexp_replace(upper(encode(convert_to(ch, 'utf8'), 'hex')), '(..)', '%\1', 'g')
    end, '')
  from regexp_split_to_table(string, '') as ch
$$;

create function net._encode_url_with_params_array(url text, params_array text[]) returns text
language sql immutable strict
as $$
  select case
    when cardinality(params_array) = 0 then url
    when position('?' in url) > 0 then url || '&' || array_to_string(params_array, '&')
    else url || '?' || array_to_string(params_array, '&')
  end
$$;

create function net._params_array(params jsonb) returns text[]
language sql immutable
as $$
  select coalesce(
    array_agg(net._urlencode_string(key) || '=' || net._urlencode_string(value)),
    '{}'::text[])
  from jsonb_each_text(coalesce(params, '{}'::jsonb))
$$;

create function net.http_get(
  url text,
  params jsonb default '{}'::jsonb,
  headers jsonb default '{}'::jsonb,
  timeout_milliseconds integer default 5000
) returns bigint
language plpgsql volatile parallel safe security definer
set search_path = net
as $$
declare
  request_id bigint;
begin
  insert into net.http_request_queue (method, url, headers, timeout_milliseconds)
  values ('GET', net._encode_url_with_params_array(url, net._params_array(params)), headers, timeout_milliseconds)
  returning id into request_id;
  return request_id;
end
$$;

create function net.http_post(
  url text,
  body jsonb default '{}'::jsonb,
  params jsonb default '{}'::jsonb,
  headers jsonb default '{"Content-Type": "application/json"}'::jsonb,
  timeout_milliseconds integer default 5000
) returns bigint
language plpgsql volatile parallel safe security definer
set search_path = net
as $$
declare
  request_id bigint;
  content_type text;
begin
  select value into content_type
  from jsonb_each_text(coalesce(headers, '{}'::jsonb))
  where lower(key) = 'content-type'
  limit 1;

  if content_type is null then
    headers := coalesce(headers, '{}'::jsonb) || '{"Content-Type": "application/json"}'::jsonb;
  elsif content_type <> 'application/json' then
    raise exception 'Content-Type header must be "application/json"';
  end if;

  insert into net.http_request_queue (method, url, headers, body, timeout_milliseconds)
  values (
    'POST',
    net._encode_url_with_params_array(url, net._params_array(params)),
    headers,
    convert_to(body::text, 'UTF8'),
    timeout_milliseconds
  )
  returning id into request_id;
  return request_id;
end
$$;

create function net.http_delete(
  url text,
  params jsonb default '{}'::jsonb,
  headers jsonb default '{}'::jsonb,
  timeout_milliseconds integer default 5000
) returns bigint
language plpgsql volatile parallel safe security definer
set search_path = net
as $$
declare
  request_id bigint;
begin
  insert into net.http_request_queue (method, url, headers, timeout_milliseconds)
  values ('DELETE', net._encode_url_with_params_array(url, net._params_array(params)), headers, timeout_milliseconds)
  returning id into request_id;
  return request_id;
end
$$;

grant usage on schema net to postgres, service_role;
grant execute on all functions in schema net to postgres, service_role;
grant all on all tables in schema net to postgres, service_role;

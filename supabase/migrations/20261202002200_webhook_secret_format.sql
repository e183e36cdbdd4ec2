-- Standard Webhooks secrets: whsec_ + canonical base64 (with its padding) of 24 to 64 bytes.
-- A secret saved without its padding used to be accepted and then broke every delivery with a
-- 401 that read like a wrong signature.
create or replace function private.validate_webhook_secret(p_scheme public.webhook_auth_scheme, p_secret text)
returns void
language plpgsql immutable
set search_path = ''
as $$
declare
  v_encoded text;
  v_bytes integer;
begin
  if p_secret is null or length(p_secret) < 16 then
    raise exception 'webhook secret must have at least 16 characters' using errcode = 'check_violation';
  end if;
  if p_scheme = 'standard_webhooks' then
    if p_secret !~ '^whsec_[A-Za-z0-9+/]+={0,2}$' then
      raise exception 'a Standard Webhooks secret looks like whsec_<base64>' using errcode = 'check_violation';
    end if;
    v_encoded := substr(p_secret, 7);
    if length(v_encoded) % 4 <> 0 then
      raise exception 'the base64 after whsec_ is % characters long: it must be a multiple of 4 (is its = padding missing?)',
        length(v_encoded) using errcode = 'check_violation';
    end if;
    v_bytes := length(decode(v_encoded, 'base64'));
    if v_bytes not between 24 and 64 then
      raise exception 'a Standard Webhooks secret must encode 24 to 64 bytes; this one has %', v_bytes
        using errcode = 'check_violation';
    end if;
  end if;
  if p_scheme = 'basic' and position(':' in p_secret) < 2 then
    raise exception 'a basic-auth secret is user:password' using errcode = 'check_violation';
  end if;
end
$$;

import { queryOptions, useQuery } from "@tanstack/react-query";
import { supabase } from "../../../lib/supabase";
import { toUserError } from "../../../lib/errors";

export interface ReservationDetail {
  id: string;
  pmsReservationId: string;
  provider: string;
  status: string;
  arrivalDate: string;
  departureDate: string;
  room: string | null;
  adults: number | null;
  children: number | null;
  timezone: string;
  propertyName: string;
  guest: {
    name: string | null;
    phone: string | null;
    language: string | null;
    optIn: boolean;
    optedOutAt: string | null;
    optOutReason: string | null;
  } | null;
}

interface Row {
  id: string;
  pms_reservation_id: string;
  provider: string;
  status: string;
  arrival_date: string;
  departure_date: string;
  room_label: string | null;
  adults: number | null;
  children: number | null;
  properties: { name: string; timezone: string } | null;
  guests: {
    full_name: string | null;
    phone_e164: string | null;
    language: string | null;
    whatsapp_opt_in: boolean;
    opted_out_at: string | null;
    opt_out_reason: string | null;
  } | null;
}

// null: no such reservation in this hotel (one answer for "doesn't exist" and "not yours").
export async function getReservation(tenantId: string, id: string): Promise<ReservationDetail | null> {
  if (!/^[0-9a-f-]{36}$/i.test(id)) return null;
  const { data, error } = await supabase
    .from("reservations")
    .select(
      "id, pms_reservation_id, provider, status, arrival_date, departure_date, room_label, adults, children," +
        " properties(name, timezone)," +
        " guests(full_name, phone_e164, language, whatsapp_opt_in, opted_out_at, opt_out_reason)",
    )
    .eq("tenant_id", tenantId)
    .eq("id", id)
    .maybeSingle<Row>();
  if (error) throw toUserError(error);
  if (!data) return null;
  return {
    id: data.id,
    pmsReservationId: data.pms_reservation_id,
    provider: data.provider,
    status: data.status,
    arrivalDate: data.arrival_date,
    departureDate: data.departure_date,
    room: data.room_label,
    adults: data.adults,
    children: data.children,
    timezone: data.properties?.timezone ?? "UTC",
    propertyName: data.properties?.name ?? "",
    guest: data.guests
      ? {
          name: data.guests.full_name,
          phone: data.guests.phone_e164,
          language: data.guests.language,
          optIn: data.guests.whatsapp_opt_in,
          optedOutAt: data.guests.opted_out_at,
          optOutReason: data.guests.opt_out_reason,
        }
      : null,
  };
}

export const reservationQueryOptions = (tenantId: string, id: string) =>
  queryOptions({ queryKey: ["reservation", tenantId, id], queryFn: () => getReservation(tenantId, id) });

export function useReservation(tenantId: string, id: string) {
  return useQuery(reservationQueryOptions(tenantId, id));
}

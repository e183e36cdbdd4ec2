// Generated from the migrated database by `make types` (devstack/typegen.py): do not edit.
// The same shape as `supabase gen types typescript --schema metrics --schema public`.
export type Json =
  | string
  | number
  | boolean
  | null
  | { [key: string]: Json | undefined }
  | Json[]

export type Database = {
  // Allows to automatically instantiate createClient with right options
  // instead of createClient<Database, { PostgrestVersion: 'XX' }>(URL, KEY)
  __InternalSupabase: {
    PostgrestVersion: "12"
  }
  metrics: {
    Tables: {
      [_ in never]: never
    }
    Views: {
      alerts: {
        Row: {
          acknowledged_at: string | null
          comparison: string | null
          id: number | null
          last_seen_at: string | null
          lookback: string | null
          metric: string | null
          opened_at: string | null
          resolved_at: string | null
          rule_key: string | null
          runbook: string | null
          runbook_url: string | null
          severity: string | null
          status: string | null
          summary: string | null
          tenant_id: string | null
          threshold: number | null
          value: number | null
        }
        Relationships: []
      }
      pms_health: {
        Row: {
          consecutive_failures: number | null
          failing_since: string | null
          health: string | null
          is_active: boolean | null
          last_error: string | null
          last_error_at: string | null
          last_success_at: string | null
          last_sync_error: string | null
          last_sync_finished_at: string | null
          last_sync_kind: string | null
          last_sync_status: string | null
          pms_configuration_id: string | null
          provider: string | null
          sync_cursor: string | null
          tenant_id: string | null
          tenant_name: string | null
        }
        Relationships: []
      }
      queue_depths: {
        Row: {
          dead_letters: number | null
          inbound_dead: number | null
          inbound_due: number | null
          inbound_processing: number | null
          inbound_retrying: number | null
          messages_dead: number | null
          messages_due: number | null
          messages_retrying: number | null
          messages_scheduled: number | null
          messages_sending: number | null
          retry_depth: number | null
          syncs_pending: number | null
          syncs_running: number | null
          tenant_id: string | null
          tenant_name: string | null
        }
        Relationships: []
      }
      waha_sessions: {
        Row: {
          is_connected: boolean | null
          seconds_in_status: number | null
          sends_paused_at: string | null
          sends_paused_reason: string | null
          session_name: string | null
          session_status: string | null
          status_changed_at: string | null
          tenant_id: string | null
          tenant_name: string | null
        }
        Relationships: []
      }
    }
    Functions: {
      tenant_metrics: {
        Args: {
          p_since?: string
          p_until?: string
          p_tenant_id?: string
        }
        Returns: {
          tenant_id: string
          tenant_name: string
          since: string
          until: string
          webhooks_attempted: number
          webhooks_received: number
          webhooks_succeeded: number
          webhooks_failed: number
          webhooks_refused: number
          webhooks_in_flight: number
          webhook_success_rate: number
          webhook_failure_rate: number
          pms_webhooks_attempted: number
          pms_webhooks_succeeded: number
          pms_webhooks_failed: number
          pms_webhooks_refused: number
          pms_webhook_success_rate: number
          pms_webhook_failure_rate: number
          waha_webhooks_attempted: number
          waha_webhooks_succeeded: number
          waha_webhooks_failed: number
          waha_webhooks_refused: number
          waha_webhook_success_rate: number
          waha_webhook_failure_rate: number
          syncs_finished: number
          syncs_failed: number
          sync_failure_rate: number
          sync_seconds_avg: number
          sync_seconds_p95: number
          sync_seconds_max: number
          reservations_failed_to_sync: number
          messages_attempted: number
          messages_sent: number
          messages_delivered: number
          messages_read: number
          messages_failed: number
          messages_dead: number
          message_delivery_rate: number
          message_failure_rate: number
        }[]
      }
      tenant_metrics_series: {
        Args: {
          p_since: string
          p_until: string
          p_step: string
          p_timezone?: string
          p_tenant_id?: string
        }
        Returns: {
          tenant_id: string
          tenant_name: string
          since: string
          until: string
          webhooks_attempted: number
          webhooks_received: number
          webhooks_succeeded: number
          webhooks_failed: number
          webhooks_refused: number
          webhooks_in_flight: number
          webhook_success_rate: number
          webhook_failure_rate: number
          pms_webhooks_attempted: number
          pms_webhooks_succeeded: number
          pms_webhooks_failed: number
          pms_webhooks_refused: number
          pms_webhook_success_rate: number
          pms_webhook_failure_rate: number
          waha_webhooks_attempted: number
          waha_webhooks_succeeded: number
          waha_webhooks_failed: number
          waha_webhooks_refused: number
          waha_webhook_success_rate: number
          waha_webhook_failure_rate: number
          syncs_finished: number
          syncs_failed: number
          sync_failure_rate: number
          sync_seconds_avg: number
          sync_seconds_p95: number
          sync_seconds_max: number
          reservations_failed_to_sync: number
          messages_attempted: number
          messages_sent: number
          messages_delivered: number
          messages_read: number
          messages_failed: number
          messages_dead: number
          message_delivery_rate: number
          message_failure_rate: number
        }[]
      }
    }
    Enums: {
      [_ in never]: never
    }
    CompositeTypes: {
      [_ in never]: never
    }
  }
  public: {
    Tables: {
      automation_rules: {
        Row: {
          created_at: string
          id: string
          is_active: boolean
          name: string
          offset_days: number
          property_id: string | null
          send_at_local: string | null
          template_key: string
          tenant_id: string
          trigger: Database["public"]["Enums"]["automation_trigger"]
          updated_at: string
        }
        Insert: {
          created_at?: string
          id?: string
          is_active?: boolean
          name: string
          offset_days?: number
          property_id?: string | null
          send_at_local?: string | null
          template_key: string
          tenant_id: string
          trigger: Database["public"]["Enums"]["automation_trigger"]
          updated_at?: string
        }
        Update: {
          created_at?: string
          id?: string
          is_active?: boolean
          name?: string
          offset_days?: number
          property_id?: string | null
          send_at_local?: string | null
          template_key?: string
          tenant_id?: string
          trigger?: Database["public"]["Enums"]["automation_trigger"]
          updated_at?: string
        }
        Relationships: [
          {
            foreignKeyName: "automation_rules_tenant_id_fkey"
            columns: ["tenant_id"]
            isOneToOne: false
            referencedRelation: "tenants"
            referencedColumns: ["id"]
          },
          {
            foreignKeyName: "automation_rules_tenant_id_property_id_fkey"
            columns: ["tenant_id", "property_id"]
            isOneToOne: false
            referencedRelation: "properties"
            referencedColumns: ["tenant_id", "id"]
          },
        ]
      }
      conversation_messages: {
        Row: {
          body: string | null
          consent_change: string | null
          conversation_id: string
          created_at: string
          delivery_status: Database["public"]["Enums"]["message_status"] | null
          direction: string
          has_media_file: boolean | null
          id: number
          language: string | null
          last_error: string | null
          location_latitude: number | null
          location_longitude: number | null
          location_name: string | null
          media_filename: string | null
          media_kind: string | null
          media_mimetype: string | null
          media_size: number | null
          media_url: string | null
          message_log_id: number | null
          opt_out_override_reason: string | null
          sender: string
          sent_at: string
          sent_by: string | null
          tenant_id: string
          waha_key: string | null
          waha_message_id: string | null
          waha_session: string
        }
        Insert: {
          body?: string | null
          consent_change?: string | null
          conversation_id: string
          created_at?: string
          delivery_status?: Database["public"]["Enums"]["message_status"] | null
          direction: string
          has_media_file?: boolean | null
          id?: never
          language?: string | null
          last_error?: string | null
          location_latitude?: number | null
          location_longitude?: number | null
          location_name?: string | null
          media_filename?: string | null
          media_kind?: string | null
          media_mimetype?: string | null
          media_size?: number | null
          media_url?: string | null
          message_log_id?: number | null
          opt_out_override_reason?: string | null
          sender: string
          sent_at?: string
          sent_by?: string | null
          tenant_id: string
          waha_key?: string | null
          waha_message_id?: string | null
          waha_session: string
        }
        Update: {
          body?: string | null
          consent_change?: string | null
          conversation_id?: string
          created_at?: string
          delivery_status?: Database["public"]["Enums"]["message_status"] | null
          direction?: string
          has_media_file?: boolean | null
          id?: never
          language?: string | null
          last_error?: string | null
          location_latitude?: number | null
          location_longitude?: number | null
          location_name?: string | null
          media_filename?: string | null
          media_kind?: string | null
          media_mimetype?: string | null
          media_size?: number | null
          media_url?: string | null
          message_log_id?: number | null
          opt_out_override_reason?: string | null
          sender?: string
          sent_at?: string
          sent_by?: string | null
          tenant_id?: string
          waha_key?: string | null
          waha_message_id?: string | null
          waha_session?: string
        }
        Relationships: [
          {
            foreignKeyName: "conversation_messages_message_log_id_fkey"
            columns: ["message_log_id"]
            isOneToOne: false
            referencedRelation: "message_logs"
            referencedColumns: ["id"]
          },
          {
            foreignKeyName: "conversation_messages_tenant_id_conversation_id_fkey"
            columns: ["tenant_id", "conversation_id"]
            isOneToOne: false
            referencedRelation: "conversations"
            referencedColumns: ["tenant_id", "id"]
          },
          {
            foreignKeyName: "conversation_messages_tenant_id_fkey"
            columns: ["tenant_id"]
            isOneToOne: false
            referencedRelation: "tenants"
            referencedColumns: ["id"]
          },
        ]
      }
      conversation_notes: {
        Row: {
          author_id: string | null
          body: string
          conversation_id: string
          created_at: string
          id: number
          tenant_id: string
        }
        Insert: {
          author_id?: string | null
          body: string
          conversation_id: string
          created_at?: string
          id?: never
          tenant_id: string
        }
        Update: {
          author_id?: string | null
          body?: string
          conversation_id?: string
          created_at?: string
          id?: never
          tenant_id?: string
        }
        Relationships: [
          {
            foreignKeyName: "conversation_notes_tenant_id_conversation_id_fkey"
            columns: ["tenant_id", "conversation_id"]
            isOneToOne: false
            referencedRelation: "conversations"
            referencedColumns: ["tenant_id", "id"]
          },
          {
            foreignKeyName: "conversation_notes_tenant_id_fkey"
            columns: ["tenant_id"]
            isOneToOne: false
            referencedRelation: "tenants"
            referencedColumns: ["id"]
          },
        ]
      }
      conversation_reads: {
        Row: {
          conversation_id: string
          last_read_message_id: number
          read_at: string
          tenant_id: string
          user_id: string
        }
        Insert: {
          conversation_id: string
          last_read_message_id?: number
          read_at?: string
          tenant_id: string
          user_id: string
        }
        Update: {
          conversation_id?: string
          last_read_message_id?: number
          read_at?: string
          tenant_id?: string
          user_id?: string
        }
        Relationships: [
          {
            foreignKeyName: "conversation_reads_tenant_id_conversation_id_fkey"
            columns: ["tenant_id", "conversation_id"]
            isOneToOne: false
            referencedRelation: "conversations"
            referencedColumns: ["tenant_id", "id"]
          },
          {
            foreignKeyName: "conversation_reads_tenant_id_fkey"
            columns: ["tenant_id"]
            isOneToOne: false
            referencedRelation: "tenants"
            referencedColumns: ["id"]
          },
        ]
      }
      conversations: {
        Row: {
          assignee_id: string | null
          chat_id: string
          contact_name: string | null
          created_at: string
          detected_language: string | null
          guest_id: string | null
          id: string
          last_inbound_at: string | null
          last_message_at: string
          last_message_preview: string | null
          phone_e164: string | null
          property_id: string | null
          status: string
          tenant_id: string
          updated_at: string
          waha_session: string
        }
        Insert: {
          assignee_id?: string | null
          chat_id: string
          contact_name?: string | null
          created_at?: string
          detected_language?: string | null
          guest_id?: string | null
          id?: string
          last_inbound_at?: string | null
          last_message_at?: string
          last_message_preview?: string | null
          phone_e164?: string | null
          property_id?: string | null
          status?: string
          tenant_id: string
          updated_at?: string
          waha_session: string
        }
        Update: {
          assignee_id?: string | null
          chat_id?: string
          contact_name?: string | null
          created_at?: string
          detected_language?: string | null
          guest_id?: string | null
          id?: string
          last_inbound_at?: string | null
          last_message_at?: string
          last_message_preview?: string | null
          phone_e164?: string | null
          property_id?: string | null
          status?: string
          tenant_id?: string
          updated_at?: string
          waha_session?: string
        }
        Relationships: [
          {
            foreignKeyName: "conversations_tenant_id_fkey"
            columns: ["tenant_id"]
            isOneToOne: false
            referencedRelation: "tenants"
            referencedColumns: ["id"]
          },
          {
            foreignKeyName: "conversations_tenant_id_guest_id_fkey"
            columns: ["tenant_id", "guest_id"]
            isOneToOne: false
            referencedRelation: "guests"
            referencedColumns: ["tenant_id", "id"]
          },
          {
            foreignKeyName: "conversations_tenant_id_property_id_fkey"
            columns: ["tenant_id", "property_id"]
            isOneToOne: false
            referencedRelation: "properties"
            referencedColumns: ["tenant_id", "id"]
          },
        ]
      }
      database_clock: {
        Row: {
          id: boolean
          system_identifier: number
          ticked_at: string
        }
        Insert: {
          id?: boolean
          system_identifier: number
          ticked_at: string
        }
        Update: {
          id?: boolean
          system_identifier?: number
          ticked_at?: string
        }
        Relationships: []
      }
      guest_consent_changes: {
        Row: {
          changed_at: string
          changed_by: string | null
          guest_id: string
          id: number
          reason: string | null
          source: string
          tenant_id: string
          whatsapp_opt_in: boolean
        }
        Insert: {
          changed_at?: string
          changed_by?: string | null
          guest_id: string
          id?: never
          reason?: string | null
          source: string
          tenant_id: string
          whatsapp_opt_in: boolean
        }
        Update: {
          changed_at?: string
          changed_by?: string | null
          guest_id?: string
          id?: never
          reason?: string | null
          source?: string
          tenant_id?: string
          whatsapp_opt_in?: boolean
        }
        Relationships: [
          {
            foreignKeyName: "guest_consent_changes_tenant_id_fkey"
            columns: ["tenant_id"]
            isOneToOne: false
            referencedRelation: "tenants"
            referencedColumns: ["id"]
          },
          {
            foreignKeyName: "guest_consent_changes_tenant_id_guest_id_fkey"
            columns: ["tenant_id", "guest_id"]
            isOneToOne: false
            referencedRelation: "guests"
            referencedColumns: ["tenant_id", "id"]
          },
        ]
      }
      guests: {
        Row: {
          created_at: string
          email: string | null
          full_name: string | null
          id: string
          language: string | null
          opt_in_changed_by: string | null
          opt_out_reason: string | null
          opted_in_at: string | null
          opted_out_at: string | null
          phone_e164: string | null
          tenant_id: string
          updated_at: string
          whatsapp_opt_in: boolean
        }
        Insert: {
          created_at?: string
          email?: string | null
          full_name?: string | null
          id?: string
          language?: string | null
          opt_in_changed_by?: string | null
          opt_out_reason?: string | null
          opted_in_at?: string | null
          opted_out_at?: string | null
          phone_e164?: string | null
          tenant_id: string
          updated_at?: string
          whatsapp_opt_in?: boolean
        }
        Update: {
          created_at?: string
          email?: string | null
          full_name?: string | null
          id?: string
          language?: string | null
          opt_in_changed_by?: string | null
          opt_out_reason?: string | null
          opted_in_at?: string | null
          opted_out_at?: string | null
          phone_e164?: string | null
          tenant_id?: string
          updated_at?: string
          whatsapp_opt_in?: boolean
        }
        Relationships: [
          {
            foreignKeyName: "guests_tenant_id_fkey"
            columns: ["tenant_id"]
            isOneToOne: false
            referencedRelation: "tenants"
            referencedColumns: ["id"]
          },
        ]
      }
      inbound_events: {
        Row: {
          attempts: number
          event_id: string
          event_type: string
          id: number
          last_error: string | null
          lease_expires_at: string | null
          lease_owner: string | null
          max_attempts: number
          next_attempt_at: string
          payload: Json
          processed_at: string | null
          provider: string
          received_at: string
          replay_count: number
          request_id: string | null
          source: Database["public"]["Enums"]["event_source"]
          status: Database["public"]["Enums"]["inbound_event_status"]
          tenant_id: string
          updated_at: string
        }
        Insert: {
          attempts?: number
          event_id: string
          event_type: string
          id?: never
          last_error?: string | null
          lease_expires_at?: string | null
          lease_owner?: string | null
          max_attempts?: number
          next_attempt_at?: string
          payload: Json
          processed_at?: string | null
          provider: string
          received_at?: string
          replay_count?: number
          request_id?: string | null
          source: Database["public"]["Enums"]["event_source"]
          status?: Database["public"]["Enums"]["inbound_event_status"]
          tenant_id: string
          updated_at?: string
        }
        Update: {
          attempts?: number
          event_id?: string
          event_type?: string
          id?: never
          last_error?: string | null
          lease_expires_at?: string | null
          lease_owner?: string | null
          max_attempts?: number
          next_attempt_at?: string
          payload?: Json
          processed_at?: string | null
          provider?: string
          received_at?: string
          replay_count?: number
          request_id?: string | null
          source?: Database["public"]["Enums"]["event_source"]
          status?: Database["public"]["Enums"]["inbound_event_status"]
          tenant_id?: string
          updated_at?: string
        }
        Relationships: [
          {
            foreignKeyName: "inbound_events_tenant_id_fkey"
            columns: ["tenant_id"]
            isOneToOne: false
            referencedRelation: "tenants"
            referencedColumns: ["id"]
          },
        ]
      }
      message_logs: {
        Row: {
          attempts: number
          body: string | null
          conversation_id: string | null
          created_at: string
          dedupe_key: string
          delivered_at: string | null
          guest_id: string | null
          id: number
          job_id: string | null
          language: string | null
          last_error: string | null
          lease_expires_at: string | null
          lease_owner: string | null
          max_attempts: number
          next_attempt_at: string
          opt_out_override: boolean
          priority: number
          read_at: string | null
          request_id: string | null
          reservation_id: string | null
          rule_id: string | null
          scheduled_for: string
          send_uncertain: boolean
          sent_at: string | null
          sent_by: string | null
          status: Database["public"]["Enums"]["message_status"]
          template_key: string
          tenant_id: string
          to_phone: string | null
          updated_at: string
          waha_message_id: string | null
        }
        Insert: {
          attempts?: number
          body?: string | null
          conversation_id?: string | null
          created_at?: string
          dedupe_key: string
          delivered_at?: string | null
          guest_id?: string | null
          id?: never
          job_id?: string | null
          language?: string | null
          last_error?: string | null
          lease_expires_at?: string | null
          lease_owner?: string | null
          max_attempts?: number
          next_attempt_at?: string
          opt_out_override?: boolean
          priority?: number
          read_at?: string | null
          request_id?: string | null
          reservation_id?: string | null
          rule_id?: string | null
          scheduled_for?: string
          send_uncertain?: boolean
          sent_at?: string | null
          sent_by?: string | null
          status?: Database["public"]["Enums"]["message_status"]
          template_key: string
          tenant_id: string
          to_phone?: string | null
          updated_at?: string
          waha_message_id?: string | null
        }
        Update: {
          attempts?: number
          body?: string | null
          conversation_id?: string | null
          created_at?: string
          dedupe_key?: string
          delivered_at?: string | null
          guest_id?: string | null
          id?: never
          job_id?: string | null
          language?: string | null
          last_error?: string | null
          lease_expires_at?: string | null
          lease_owner?: string | null
          max_attempts?: number
          next_attempt_at?: string
          opt_out_override?: boolean
          priority?: number
          read_at?: string | null
          request_id?: string | null
          reservation_id?: string | null
          rule_id?: string | null
          scheduled_for?: string
          send_uncertain?: boolean
          sent_at?: string | null
          sent_by?: string | null
          status?: Database["public"]["Enums"]["message_status"]
          template_key?: string
          tenant_id?: string
          to_phone?: string | null
          updated_at?: string
          waha_message_id?: string | null
        }
        Relationships: [
          {
            foreignKeyName: "message_logs_conversation_fkey"
            columns: ["tenant_id", "conversation_id"]
            isOneToOne: false
            referencedRelation: "conversations"
            referencedColumns: ["tenant_id", "id"]
          },
          {
            foreignKeyName: "message_logs_tenant_id_fkey"
            columns: ["tenant_id"]
            isOneToOne: false
            referencedRelation: "tenants"
            referencedColumns: ["id"]
          },
          {
            foreignKeyName: "message_logs_tenant_id_guest_id_fkey"
            columns: ["tenant_id", "guest_id"]
            isOneToOne: false
            referencedRelation: "guests"
            referencedColumns: ["tenant_id", "id"]
          },
          {
            foreignKeyName: "message_logs_tenant_id_reservation_id_fkey"
            columns: ["tenant_id", "reservation_id"]
            isOneToOne: false
            referencedRelation: "reservations"
            referencedColumns: ["tenant_id", "id"]
          },
          {
            foreignKeyName: "message_logs_tenant_id_rule_id_fkey"
            columns: ["tenant_id", "rule_id"]
            isOneToOne: false
            referencedRelation: "automation_rules"
            referencedColumns: ["tenant_id", "id"]
          },
        ]
      }
      message_templates: {
        Row: {
          body: string
          created_at: string
          id: string
          key: string
          language: string
          tenant_id: string
          updated_at: string
        }
        Insert: {
          body: string
          created_at?: string
          id?: string
          key: string
          language: string
          tenant_id: string
          updated_at?: string
        }
        Update: {
          body?: string
          created_at?: string
          id?: string
          key?: string
          language?: string
          tenant_id?: string
          updated_at?: string
        }
        Relationships: [
          {
            foreignKeyName: "message_templates_tenant_id_fkey"
            columns: ["tenant_id"]
            isOneToOne: false
            referencedRelation: "tenants"
            referencedColumns: ["id"]
          },
        ]
      }
      pms_configurations: {
        Row: {
          api_base_url: string | null
          auth_scheme: Database["public"]["Enums"]["webhook_auth_scheme"]
          consecutive_failures: number
          created_at: string
          credentials_set_at: string | null
          external_account_id: string | null
          health: Database["public"]["Enums"]["integration_health"]
          id: string
          is_active: boolean
          last_error: string | null
          last_error_at: string | null
          last_success_at: string | null
          provider: Database["public"]["Enums"]["pms_provider"]
          sync_cursor: string | null
          sync_interval_minutes: number
          sync_paused_at: string | null
          sync_paused_reason: string | null
          tenant_id: string
          updated_at: string
          webhook_secret_set_at: string | null
        }
        Insert: {
          api_base_url?: string | null
          auth_scheme?: Database["public"]["Enums"]["webhook_auth_scheme"]
          consecutive_failures?: number
          created_at?: string
          credentials_set_at?: string | null
          external_account_id?: string | null
          health?: Database["public"]["Enums"]["integration_health"]
          id?: string
          is_active?: boolean
          last_error?: string | null
          last_error_at?: string | null
          last_success_at?: string | null
          provider: Database["public"]["Enums"]["pms_provider"]
          sync_cursor?: string | null
          sync_interval_minutes?: number
          sync_paused_at?: string | null
          sync_paused_reason?: string | null
          tenant_id: string
          updated_at?: string
          webhook_secret_set_at?: string | null
        }
        Update: {
          api_base_url?: string | null
          auth_scheme?: Database["public"]["Enums"]["webhook_auth_scheme"]
          consecutive_failures?: number
          created_at?: string
          credentials_set_at?: string | null
          external_account_id?: string | null
          health?: Database["public"]["Enums"]["integration_health"]
          id?: string
          is_active?: boolean
          last_error?: string | null
          last_error_at?: string | null
          last_success_at?: string | null
          provider?: Database["public"]["Enums"]["pms_provider"]
          sync_cursor?: string | null
          sync_interval_minutes?: number
          sync_paused_at?: string | null
          sync_paused_reason?: string | null
          tenant_id?: string
          updated_at?: string
          webhook_secret_set_at?: string | null
        }
        Relationships: [
          {
            foreignKeyName: "pms_configurations_tenant_id_fkey"
            columns: ["tenant_id"]
            isOneToOne: false
            referencedRelation: "tenants"
            referencedColumns: ["id"]
          },
        ]
      }
      properties: {
        Row: {
          check_in_time: string
          check_out_time: string
          created_at: string
          id: string
          name: string
          pms_property_id: string | null
          quiet_hours_end: string
          quiet_hours_start: string
          tenant_id: string
          timezone: string
          updated_at: string
        }
        Insert: {
          check_in_time?: string
          check_out_time?: string
          created_at?: string
          id?: string
          name: string
          pms_property_id?: string | null
          quiet_hours_end?: string
          quiet_hours_start?: string
          tenant_id: string
          timezone: string
          updated_at?: string
        }
        Update: {
          check_in_time?: string
          check_out_time?: string
          created_at?: string
          id?: string
          name?: string
          pms_property_id?: string | null
          quiet_hours_end?: string
          quiet_hours_start?: string
          tenant_id?: string
          timezone?: string
          updated_at?: string
        }
        Relationships: [
          {
            foreignKeyName: "properties_tenant_id_fkey"
            columns: ["tenant_id"]
            isOneToOne: false
            referencedRelation: "tenants"
            referencedColumns: ["id"]
          },
        ]
      }
      reservations: {
        Row: {
          adults: number | null
          arrival_date: string
          canonical: Json
          children: number | null
          created_at: string
          departure_date: string
          guest_id: string | null
          id: string
          last_job_id: string | null
          last_request_id: string | null
          pms_reservation_id: string
          pms_updated_at: string
          property_id: string
          provider: Database["public"]["Enums"]["pms_provider"]
          room_label: string | null
          status: Database["public"]["Enums"]["reservation_status"]
          tenant_id: string
          updated_at: string
        }
        Insert: {
          adults?: number | null
          arrival_date: string
          canonical?: Json
          children?: number | null
          created_at?: string
          departure_date: string
          guest_id?: string | null
          id?: string
          last_job_id?: string | null
          last_request_id?: string | null
          pms_reservation_id: string
          pms_updated_at: string
          property_id: string
          provider: Database["public"]["Enums"]["pms_provider"]
          room_label?: string | null
          status: Database["public"]["Enums"]["reservation_status"]
          tenant_id: string
          updated_at?: string
        }
        Update: {
          adults?: number | null
          arrival_date?: string
          canonical?: Json
          children?: number | null
          created_at?: string
          departure_date?: string
          guest_id?: string | null
          id?: string
          last_job_id?: string | null
          last_request_id?: string | null
          pms_reservation_id?: string
          pms_updated_at?: string
          property_id?: string
          provider?: Database["public"]["Enums"]["pms_provider"]
          room_label?: string | null
          status?: Database["public"]["Enums"]["reservation_status"]
          tenant_id?: string
          updated_at?: string
        }
        Relationships: [
          {
            foreignKeyName: "reservations_tenant_id_fkey"
            columns: ["tenant_id"]
            isOneToOne: false
            referencedRelation: "tenants"
            referencedColumns: ["id"]
          },
          {
            foreignKeyName: "reservations_tenant_id_guest_id_fkey"
            columns: ["tenant_id", "guest_id"]
            isOneToOne: false
            referencedRelation: "guests"
            referencedColumns: ["tenant_id", "id"]
          },
          {
            foreignKeyName: "reservations_tenant_id_property_id_fkey"
            columns: ["tenant_id", "property_id"]
            isOneToOne: false
            referencedRelation: "properties"
            referencedColumns: ["tenant_id", "id"]
          },
        ]
      }
      restore_recoveries: {
        Row: {
          already_sent: number
          checked: number
          finished_at: string | null
          id: number
          lead_until: string | null
          leader: string | null
          reason: string
          requested_at: string
          requested_by: string
          since: string
          skipped_configurations: (string)[]
          sync_job_ids: (string)[]
          syncs_done_at: string | null
          syncs_failed: number
          unverifiable: number
        }
        Insert: {
          already_sent?: number
          checked?: number
          finished_at?: string | null
          id?: never
          lead_until?: string | null
          leader?: string | null
          reason: string
          requested_at?: string
          requested_by: string
          since: string
          skipped_configurations?: (string)[]
          sync_job_ids?: (string)[]
          syncs_done_at?: string | null
          syncs_failed?: number
          unverifiable?: number
        }
        Update: {
          already_sent?: number
          checked?: number
          finished_at?: string | null
          id?: never
          lead_until?: string | null
          leader?: string | null
          reason?: string
          requested_at?: string
          requested_by?: string
          since?: string
          skipped_configurations?: (string)[]
          sync_job_ids?: (string)[]
          syncs_done_at?: string | null
          syncs_failed?: number
          unverifiable?: number
        }
        Relationships: []
      }
      sync_jobs: {
        Row: {
          attempts: number
          created_count: number
          cursor_from: string | null
          cursor_to: string | null
          error: string | null
          failed_count: number
          finished_at: string | null
          id: string
          kind: Database["public"]["Enums"]["sync_kind"]
          lease_expires_at: string | null
          lease_owner: string | null
          max_attempts: number
          next_attempt_at: string
          pages: number
          pms_configuration_id: string
          pms_reservation_id: string | null
          request_id: string | null
          requested_at: string
          requested_by: string | null
          started_at: string | null
          status: Database["public"]["Enums"]["sync_status"]
          tenant_id: string
          trigger: Database["public"]["Enums"]["sync_trigger"]
          unchanged_count: number
          updated_at: string
          updated_count: number
        }
        Insert: {
          attempts?: number
          created_count?: number
          cursor_from?: string | null
          cursor_to?: string | null
          error?: string | null
          failed_count?: number
          finished_at?: string | null
          id?: string
          kind: Database["public"]["Enums"]["sync_kind"]
          lease_expires_at?: string | null
          lease_owner?: string | null
          max_attempts?: number
          next_attempt_at?: string
          pages?: number
          pms_configuration_id: string
          pms_reservation_id?: string | null
          request_id?: string | null
          requested_at?: string
          requested_by?: string | null
          started_at?: string | null
          status?: Database["public"]["Enums"]["sync_status"]
          tenant_id: string
          trigger: Database["public"]["Enums"]["sync_trigger"]
          unchanged_count?: number
          updated_at?: string
          updated_count?: number
        }
        Update: {
          attempts?: number
          created_count?: number
          cursor_from?: string | null
          cursor_to?: string | null
          error?: string | null
          failed_count?: number
          finished_at?: string | null
          id?: string
          kind?: Database["public"]["Enums"]["sync_kind"]
          lease_expires_at?: string | null
          lease_owner?: string | null
          max_attempts?: number
          next_attempt_at?: string
          pages?: number
          pms_configuration_id?: string
          pms_reservation_id?: string | null
          request_id?: string | null
          requested_at?: string
          requested_by?: string | null
          started_at?: string | null
          status?: Database["public"]["Enums"]["sync_status"]
          tenant_id?: string
          trigger?: Database["public"]["Enums"]["sync_trigger"]
          unchanged_count?: number
          updated_at?: string
          updated_count?: number
        }
        Relationships: [
          {
            foreignKeyName: "sync_jobs_tenant_id_fkey"
            columns: ["tenant_id"]
            isOneToOne: false
            referencedRelation: "tenants"
            referencedColumns: ["id"]
          },
          {
            foreignKeyName: "sync_jobs_tenant_id_pms_configuration_id_fkey"
            columns: ["tenant_id", "pms_configuration_id"]
            isOneToOne: false
            referencedRelation: "pms_configurations"
            referencedColumns: ["tenant_id", "id"]
          },
        ]
      }
      tenant_invitations: {
        Row: {
          accepted_at: string | null
          accepted_by: string | null
          created_at: string
          email: string
          expires_at: string
          id: string
          invited_by: string | null
          revoked_at: string | null
          role: Database["public"]["Enums"]["member_role"]
          tenant_id: string
          token_hash: string
        }
        Insert: {
          accepted_at?: string | null
          accepted_by?: string | null
          created_at?: string
          email: string
          expires_at: string
          id?: string
          invited_by?: string | null
          revoked_at?: string | null
          role?: Database["public"]["Enums"]["member_role"]
          tenant_id: string
          token_hash: string
        }
        Update: {
          accepted_at?: string | null
          accepted_by?: string | null
          created_at?: string
          email?: string
          expires_at?: string
          id?: string
          invited_by?: string | null
          revoked_at?: string | null
          role?: Database["public"]["Enums"]["member_role"]
          tenant_id?: string
          token_hash?: string
        }
        Relationships: [
          {
            foreignKeyName: "tenant_invitations_tenant_id_fkey"
            columns: ["tenant_id"]
            isOneToOne: false
            referencedRelation: "tenants"
            referencedColumns: ["id"]
          },
        ]
      }
      tenant_members: {
        Row: {
          created_at: string
          role: Database["public"]["Enums"]["member_role"]
          tenant_id: string
          updated_at: string
          user_id: string
        }
        Insert: {
          created_at?: string
          role?: Database["public"]["Enums"]["member_role"]
          tenant_id: string
          updated_at?: string
          user_id: string
        }
        Update: {
          created_at?: string
          role?: Database["public"]["Enums"]["member_role"]
          tenant_id?: string
          updated_at?: string
          user_id?: string
        }
        Relationships: [
          {
            foreignKeyName: "tenant_members_tenant_id_fkey"
            columns: ["tenant_id"]
            isOneToOne: false
            referencedRelation: "tenants"
            referencedColumns: ["id"]
          },
        ]
      }
      tenants: {
        Row: {
          created_at: string
          default_language: string
          guest_opt_in_by_message: boolean
          id: string
          name: string
          notification_url: string | null
          updated_at: string
          webhook_key: string
        }
        Insert: {
          created_at?: string
          default_language?: string
          guest_opt_in_by_message?: boolean
          id?: string
          name: string
          notification_url?: string | null
          updated_at?: string
          webhook_key?: string
        }
        Update: {
          created_at?: string
          default_language?: string
          guest_opt_in_by_message?: boolean
          id?: string
          name?: string
          notification_url?: string | null
          updated_at?: string
          webhook_key?: string
        }
        Relationships: []
      }
      waha_configurations: {
        Row: {
          api_key_set_at: string | null
          base_url: string
          created_at: string
          gap_ends_at: string | null
          id: string
          is_connected: boolean | null
          next_send_at: string
          send_gap_max_ms: number
          send_gap_min_ms: number
          sends_held_at: string | null
          sends_held_by: string | null
          sends_held_reason: string | null
          sends_paused_at: string | null
          sends_paused_reason: string | null
          session_name: string
          session_status: string
          status_changed_at: string
          status_reported_at: string | null
          tenant_id: string
          updated_at: string
          webhook_secret_set_at: string | null
        }
        Insert: {
          api_key_set_at?: string | null
          base_url: string
          created_at?: string
          gap_ends_at?: string | null
          id?: string
          is_connected?: boolean | null
          next_send_at?: string
          send_gap_max_ms?: number
          send_gap_min_ms?: number
          sends_held_at?: string | null
          sends_held_by?: string | null
          sends_held_reason?: string | null
          sends_paused_at?: string | null
          sends_paused_reason?: string | null
          session_name?: string
          session_status?: string
          status_changed_at?: string
          status_reported_at?: string | null
          tenant_id: string
          updated_at?: string
          webhook_secret_set_at?: string | null
        }
        Update: {
          api_key_set_at?: string | null
          base_url?: string
          created_at?: string
          gap_ends_at?: string | null
          id?: string
          is_connected?: boolean | null
          next_send_at?: string
          send_gap_max_ms?: number
          send_gap_min_ms?: number
          sends_held_at?: string | null
          sends_held_by?: string | null
          sends_held_reason?: string | null
          sends_paused_at?: string | null
          sends_paused_reason?: string | null
          session_name?: string
          session_status?: string
          status_changed_at?: string
          status_reported_at?: string | null
          tenant_id?: string
          updated_at?: string
          webhook_secret_set_at?: string | null
        }
        Relationships: [
          {
            foreignKeyName: "waha_configurations_tenant_id_fkey"
            columns: ["tenant_id"]
            isOneToOne: true
            referencedRelation: "tenants"
            referencedColumns: ["id"]
          },
        ]
      }
      worker_liveness: {
        Row: {
          incarnation: string
          lock_key: number
          registered_at: string
          suspected_dead_at: string | null
          worker_id: string
        }
        Insert: {
          incarnation: string
          lock_key?: never
          registered_at?: string
          suspected_dead_at?: string | null
          worker_id: string
        }
        Update: {
          incarnation?: string
          lock_key?: never
          registered_at?: string
          suspected_dead_at?: string | null
          worker_id?: string
        }
        Relationships: []
      }
    }
    Views: {
      [_ in never]: never
    }
    Functions: {
      accept_invitation: {
        Args: {
          p_token: string
        }
        Returns: string
      }
      add_conversation_note: {
        Args: {
          p_conversation_id: string
          p_body: string
        }
        Returns: number
      }
      assign_conversation: {
        Args: {
          p_conversation_id: string
          p_assignee_id: string
        }
        Returns: undefined
      }
      change_member_role: {
        Args: {
          p_tenant_id: string
          p_user_id: string
          p_role: Database["public"]["Enums"]["member_role"]
        }
        Returns: boolean
      }
      check_template: {
        Args: {
          p_body: string
        }
        Returns: Json
      }
      conversation_reservations: {
        Args: {
          p_conversation_id: string
        }
        Returns: {
          reservation_id: string
          property_id: string
          property_name: string
          pms_reservation_id: string
          arrival_date: string
          departure_date: string
          status: string
          timing: string
        }[]
      }
      create_tenant: {
        Args: {
          p_name: string
          p_default_language?: string
        }
        Returns: string
      }
      inbox_assignees: {
        Args: {
          p_tenant_id: string
        }
        Returns: {
          user_id: string
          email: string
          is_me: boolean
        }[]
      }
      inbox_unread_counts: {
        Args: {
          p_tenant_id: string
        }
        Returns: {
          property_id: string
          open_conversations: number
          unread_conversations: number
          unread_messages: number
        }[]
      }
      invite_member: {
        Args: {
          p_tenant_id: string
          p_email: string
          p_role?: Database["public"]["Enums"]["member_role"]
          p_valid_for?: string
        }
        Returns: {
          invitation_id: string
          token: string
          expires_at: string
        }[]
      }
      link_conversation_guest: {
        Args: {
          p_conversation_id: string
          p_guest_id: string
        }
        Returns: undefined
      }
      list_conversations: {
        Args: {
          p_tenant_id: string
          p_status?: string
          p_property_id?: string
          p_search?: string
          p_assignee_id?: string
          p_unread_only?: boolean
          p_limit?: number
          p_before?: string
        }
        Returns: {
          id: string
          property_id: string
          waha_session: string
          chat_id: string
          phone_e164: string
          guest_id: string
          guest_name: string
          contact_name: string
          status: string
          assignee_id: string
          last_message_at: string
          last_message_preview: string
          detected_language: string
          guest_language: string
          guest_opted_out: boolean
          unread_count: number
        }[]
      }
      mark_conversation_read: {
        Args: {
          p_conversation_id: string
          p_up_to_message_id?: number
        }
        Returns: undefined
      }
      pause_tenant_sends: {
        Args: {
          p_tenant_id: string
          p_reason: string
        }
        Returns: undefined
      }
      preview_template: {
        Args: {
          p_reservation_id: string
          p_body: string
          p_key?: string
        }
        Returns: Json
      }
      remove_member: {
        Args: {
          p_tenant_id: string
          p_user_id: string
        }
        Returns: undefined
      }
      render_reply_template: {
        Args: {
          p_conversation_id: string
          p_template_key: string
          p_language?: string
        }
        Returns: {
          body: string
          language: string
        }[]
      }
      replay_inbound_event: {
        Args: {
          p_event_id: number
        }
        Returns: boolean
      }
      replay_inbound_events: {
        Args: {
          p_tenant_id: string
          p_ids?: (number)[]
          p_since?: string
          p_until?: string
          p_provider?: string
          p_event_type?: string
          p_limit?: number
        }
        Returns: Json
      }
      request_sync: {
        Args: {
          p_pms_configuration_id: string
          p_kind?: Database["public"]["Enums"]["sync_kind"]
        }
        Returns: string
      }
      resend_message: {
        Args: {
          p_message_id: number
        }
        Returns: boolean
      }
      resend_messages: {
        Args: {
          p_tenant_id: string
          p_ids?: (number)[]
          p_statuses?: (Database["public"]["Enums"]["message_status"])[]
          p_since?: string
          p_until?: string
          p_template_key?: string
          p_limit?: number
        }
        Returns: Json
      }
      resume_tenant_sends: {
        Args: {
          p_tenant_id: string
        }
        Returns: boolean
      }
      revoke_invitation: {
        Args: {
          p_invitation_id: string
        }
        Returns: boolean
      }
      rotate_pms_webhook_secret: {
        Args: {
          p_pms_configuration_id: string
          p_previous_valid_for?: string
        }
        Returns: string
      }
      search_reservations: {
        Args: {
          p_tenant_id: string
          p_query?: string
          p_arrival_from?: string
          p_arrival_to?: string
          p_limit?: number
          p_offset?: number
        }
        Returns: {
          reservation_id: string
          property_id: string
          provider: Database["public"]["Enums"]["pms_provider"]
          pms_reservation_id: string
          status: Database["public"]["Enums"]["reservation_status"]
          arrival_date: string
          departure_date: string
          room_label: string
          guest_id: string
          guest_name: string
          guest_phone: string
          whatsapp_opt_in: boolean
          messages: Json
        }[]
      }
      send_reply: {
        Args: {
          p_conversation_id: string
          p_body: string
          p_confirm_opted_out?: boolean
          p_reason?: string
        }
        Returns: {
          conversation_message_id: number
          message_log_id: number
        }[]
      }
      sending_hold: {
        Args: {
          p_tenant_id: string
        }
        Returns: {
          reason: string
          held_at: string
          held_by_email: string
        }[]
      }
      set_conversation_status: {
        Args: {
          p_conversation_id: string
          p_status: string
        }
        Returns: undefined
      }
      set_guest_opt_in: {
        Args: {
          p_guest_id: string
          p_opt_in: boolean
          p_reason?: string
        }
        Returns: boolean
      }
      set_inbox_settings: {
        Args: {
          p_tenant_id: string
          p_guest_opt_in_by_message: boolean
        }
        Returns: undefined
      }
      set_pms_credentials: {
        Args: {
          p_pms_configuration_id: string
          p_credentials: Json
        }
        Returns: undefined
      }
      set_pms_webhook_secret: {
        Args: {
          p_pms_configuration_id: string
          p_secret: string
          p_previous_valid_for?: string
        }
        Returns: undefined
      }
      set_waha_api_key: {
        Args: {
          p_waha_configuration_id: string
          p_api_key: string
        }
        Returns: undefined
      }
      set_waha_pacing: {
        Args: {
          p_tenant_id: string
          p_send_gap_min_ms: number
          p_send_gap_max_ms: number
        }
        Returns: undefined
      }
      team_members: {
        Args: {
          p_tenant_id: string
        }
        Returns: {
          user_id: string
          email: string
          role: Database["public"]["Enums"]["member_role"]
          joined_at: string
          is_me: boolean
        }[]
      }
    }
    Enums: {
      automation_trigger:
        | "booking_confirmed"
        | "before_arrival"
        | "arrival_day"
        | "after_departure"
        | "booking_cancelled"
      event_source: "pms" | "waha" | "system"
      inbound_event_status: "pending" | "processing" | "succeeded" | "ignored" | "dead"
      integration_health: "unknown" | "ok" | "failing"
      member_role: "owner" | "admin" | "staff"
      message_status:
        | "scheduled"
        | "queued"
        | "sending"
        | "sent"
        | "delivered"
        | "read"
        | "failed"
        | "dead"
        | "cancelled"
        | "skipped"
      pms_provider: "generic" | "apaleo" | "mews" | "cloudbeds" | "guesty"
      reservation_status: "confirmed" | "checked_in" | "checked_out" | "cancelled" | "no_show"
      sync_kind: "full" | "incremental" | "reservation"
      sync_status: "pending" | "running" | "succeeded" | "failed" | "cancelled"
      sync_trigger: "schedule" | "manual" | "recovery" | "webhook" | "initial"
      webhook_auth_scheme: "standard_webhooks" | "token" | "basic"
    }
    CompositeTypes: {
      [_ in never]: never
    }
  }
}

type DatabaseWithoutInternals = Omit<Database, "__InternalSupabase">

type DefaultSchema = DatabaseWithoutInternals[Extract<keyof Database, "public">]

export type Tables<
  DefaultSchemaTableNameOrOptions extends
    | keyof (DefaultSchema["Tables"] & DefaultSchema["Views"])
    | { schema: keyof DatabaseWithoutInternals },
  TableName extends DefaultSchemaTableNameOrOptions extends {
    schema: keyof DatabaseWithoutInternals
  }
    ? keyof (DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Tables"] &
        DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Views"])
    : never = never,
> = DefaultSchemaTableNameOrOptions extends {
  schema: keyof DatabaseWithoutInternals
}
  ? (DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Tables"] &
      DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Views"])[TableName] extends {
      Row: infer R
    }
    ? R
    : never
  : DefaultSchemaTableNameOrOptions extends keyof (DefaultSchema["Tables"] &
        DefaultSchema["Views"])
    ? (DefaultSchema["Tables"] &
        DefaultSchema["Views"])[DefaultSchemaTableNameOrOptions] extends {
        Row: infer R
      }
      ? R
      : never
    : never

export type TablesInsert<
  DefaultSchemaTableNameOrOptions extends
    | keyof DefaultSchema["Tables"]
    | { schema: keyof DatabaseWithoutInternals },
  TableName extends DefaultSchemaTableNameOrOptions extends {
    schema: keyof DatabaseWithoutInternals
  }
    ? keyof DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Tables"]
    : never = never,
> = DefaultSchemaTableNameOrOptions extends {
  schema: keyof DatabaseWithoutInternals
}
  ? DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Tables"][TableName] extends {
      Insert: infer I
    }
    ? I
    : never
  : DefaultSchemaTableNameOrOptions extends keyof DefaultSchema["Tables"]
    ? DefaultSchema["Tables"][DefaultSchemaTableNameOrOptions] extends {
        Insert: infer I
      }
      ? I
      : never
    : never

export type TablesUpdate<
  DefaultSchemaTableNameOrOptions extends
    | keyof DefaultSchema["Tables"]
    | { schema: keyof DatabaseWithoutInternals },
  TableName extends DefaultSchemaTableNameOrOptions extends {
    schema: keyof DatabaseWithoutInternals
  }
    ? keyof DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Tables"]
    : never = never,
> = DefaultSchemaTableNameOrOptions extends {
  schema: keyof DatabaseWithoutInternals
}
  ? DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Tables"][TableName] extends {
      Update: infer U
    }
    ? U
    : never
  : DefaultSchemaTableNameOrOptions extends keyof DefaultSchema["Tables"]
    ? DefaultSchema["Tables"][DefaultSchemaTableNameOrOptions] extends {
        Update: infer U
      }
      ? U
      : never
    : never

export type Enums<
  DefaultSchemaEnumNameOrOptions extends
    | keyof DefaultSchema["Enums"]
    | { schema: keyof DatabaseWithoutInternals },
  EnumName extends DefaultSchemaEnumNameOrOptions extends {
    schema: keyof DatabaseWithoutInternals
  }
    ? keyof DatabaseWithoutInternals[DefaultSchemaEnumNameOrOptions["schema"]]["Enums"]
    : never = never,
> = DefaultSchemaEnumNameOrOptions extends {
  schema: keyof DatabaseWithoutInternals
}
  ? DatabaseWithoutInternals[DefaultSchemaEnumNameOrOptions["schema"]]["Enums"][EnumName]
  : DefaultSchemaEnumNameOrOptions extends keyof DefaultSchema["Enums"]
    ? DefaultSchema["Enums"][DefaultSchemaEnumNameOrOptions]
    : never

export type CompositeTypes<
  PublicCompositeTypeNameOrOptions extends
    | keyof DefaultSchema["CompositeTypes"]
    | { schema: keyof DatabaseWithoutInternals },
  CompositeTypeName extends PublicCompositeTypeNameOrOptions extends {
    schema: keyof DatabaseWithoutInternals
  }
    ? keyof DatabaseWithoutInternals[PublicCompositeTypeNameOrOptions["schema"]]["CompositeTypes"]
    : never = never,
> = PublicCompositeTypeNameOrOptions extends {
  schema: keyof DatabaseWithoutInternals
}
  ? DatabaseWithoutInternals[PublicCompositeTypeNameOrOptions["schema"]]["CompositeTypes"][CompositeTypeName]
  : PublicCompositeTypeNameOrOptions extends keyof DefaultSchema["CompositeTypes"]
    ? DefaultSchema["CompositeTypes"][PublicCompositeTypeNameOrOptions]
    : never

export const Constants = {
  metrics: {
    Enums: {},
  },
  public: {
    Enums: {
      automation_trigger: [
        "booking_confirmed",
        "before_arrival",
        "arrival_day",
        "after_departure",
        "booking_cancelled",
      ],
      event_source: ["pms", "waha", "system"],
      inbound_event_status: ["pending", "processing", "succeeded", "ignored", "dead"],
      integration_health: ["unknown", "ok", "failing"],
      member_role: ["owner", "admin", "staff"],
      message_status: [
        "scheduled",
        "queued",
        "sending",
        "sent",
        "delivered",
        "read",
        "failed",
        "dead",
        "cancelled",
        "skipped",
      ],
      pms_provider: ["generic", "apaleo", "mews", "cloudbeds", "guesty"],
      reservation_status: ["confirmed", "checked_in", "checked_out", "cancelled", "no_show"],
      sync_kind: ["full", "incremental", "reservation"],
      sync_status: ["pending", "running", "succeeded", "failed", "cancelled"],
      sync_trigger: ["schedule", "manual", "recovery", "webhook", "initial"],
      webhook_auth_scheme: ["standard_webhooks", "token", "basic"],
    },
  },
} as const

import { Alert, Anchor, Button, Group, Image, Loader, Stack, Text } from "@mantine/core";
import { useTranslation } from "react-i18next";
import type { ThreadMessage } from "../api/types";
import { useMedia } from "../hooks/use-media";
import { formatSize } from "./format";

// A message's attachment as what it is. Locations need nothing fetched; files are fetched from
// the hotel's WhatsApp only when someone opens them.
export function MediaView({ tenantId, message }: { tenantId: string; message: ThreadMessage }) {
  const { t, i18n } = useTranslation();
  const { state, open } = useMedia(tenantId, message.id);
  const kind = message.media_kind;
  if (!kind) return null;

  if (kind === "location") {
    const lat = message.location_latitude;
    const lon = message.location_longitude;
    return (
      <Stack gap={2}>
        <Text fw={600}>{t("inbox.media.location")}</Text>
        {message.location_name && <Text>{message.location_name}</Text>}
        {lat !== null && lon !== null && (
          <>
            <Text size="sm">{t("inbox.media.coordinates", { lat: lat.toFixed(5), lon: lon.toFixed(5) })}</Text>
            <Anchor
              href={`https://www.openstreetmap.org/?mlat=${lat}&mlon=${lon}#map=17/${lat}/${lon}`}
              target="_blank"
              rel="noopener noreferrer"
            >
              {t("inbox.media.openMap")}
            </Anchor>
          </>
        )}
      </Stack>
    );
  }

  const name = message.media_filename ?? t(`inbox.media.kind_${kind}`);
  const size = message.media_size ?? (state.kind === "open" ? state.size : null);
  const label = t(`inbox.media.kind_${kind}`);
  const details = [message.media_filename, size !== null ? formatSize(size, i18n.language) : null]
    .filter(Boolean)
    .join(" · ");

  return (
    <Stack gap={4}>
      <Text fw={600}>
        {label}
        {details && (
          <Text span fw={400}>
            {" "}
            ({details})
          </Text>
        )}
      </Text>
      {state.kind === "open" ? (
        kind === "image" || kind === "sticker" ? (
          <Image src={state.url} alt={message.body ?? name} maw={320} radius="sm" />
        ) : kind === "voice" || kind === "audio" ? (
          <audio controls src={state.url} aria-label={label}>
            <a href={state.url} download={name}>
              {t("inbox.media.save", { name })}
            </a>
          </audio>
        ) : kind === "video" ? (
          <video controls src={state.url} aria-label={label} style={{ maxWidth: 320 }} />
        ) : (
          <Group gap="sm">
            <Anchor href={state.url} target="_blank" rel="noopener">
              {t("inbox.media.view", { name })}
            </Anchor>
            <Anchor href={state.url} download={name}>
              {t("inbox.media.save", { name })}
            </Anchor>
          </Group>
        )
      ) : message.has_media_file ? (
        <Group gap="xs">
          <Button
            size="compact-sm"
            variant="light"
            onClick={() => void open()}
            loading={state.kind === "loading"}
            aria-label={t(`inbox.media.open_${kind}`, { name })}
          >
            {t(`inbox.media.open_${kind}`, { name })}
          </Button>
          {state.kind === "loading" && <Loader size="xs" aria-hidden />}
        </Group>
      ) : (
        <Text size="sm">{t("inbox.media.notAvailable")}</Text>
      )}
      {state.kind === "failed" && (
        <Alert color="red" role="alert" p="xs">
          {t(state.error.key, { detail: state.error.detail })}
        </Alert>
      )}
    </Stack>
  );
}

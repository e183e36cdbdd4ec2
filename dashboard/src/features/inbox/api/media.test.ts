import { describe, expect, it } from "vitest";
import { mediaErrorKey } from "./media";

describe("mediaErrorKey", () => {
  it("says what to do when a file cannot be fetched", () => {
    expect(mediaErrorKey(404, "media_gone")).toBe("inbox.media.gone");
    expect(mediaErrorKey(404, "not_found")).toBe("inbox.media.notAvailable");
    expect(mediaErrorKey(502, "media_too_large")).toBe("inbox.media.tooLarge");
    expect(mediaErrorKey(502, "waha_unreachable")).toBe("inbox.media.whatsapp");
    expect(mediaErrorKey(409, "waha_url_not_allowed")).toBe("inbox.media.whatsapp");
    expect(mediaErrorKey(403, "forbidden")).toBe("errors.notAllowed");
    expect(mediaErrorKey(401, "")).toBe("errors.session");
  });
});

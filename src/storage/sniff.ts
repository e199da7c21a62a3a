/**
 * Tells images and videos apart by their first bytes, never by their names. Returns undefined for
 * anything else. 512 bytes of head are enough for every format listed.
 */
export interface MediaKind {
  kind: "image" | "video";
  contentType: string;
}

export const SNIFF_BYTES = 512;

const ascii = (b: Uint8Array, at: number, s: string) => {
  if (b.length < at + s.length) return false;
  for (let i = 0; i < s.length; i++) if (b[at + i] !== s.charCodeAt(i)) return false;
  return true;
};
const bytes = (b: Uint8Array, at: number, sig: number[]) => sig.every((v, i) => b[at + i] === v);

const IMAGE_FTYP_BRANDS = new Set(["avif", "avis", "heic", "heix", "heim", "heis", "mif1", "msf1"]);

export function sniffMedia(head: Uint8Array): MediaKind | undefined {
  const image = (contentType: string): MediaKind => ({ kind: "image", contentType });
  const video = (contentType: string): MediaKind => ({ kind: "video", contentType });
  if (bytes(head, 0, [0xff, 0xd8, 0xff])) return image("image/jpeg");
  if (bytes(head, 0, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return image("image/png");
  if (ascii(head, 0, "GIF87a") || ascii(head, 0, "GIF89a")) return image("image/gif");
  if (ascii(head, 0, "RIFF") && ascii(head, 8, "WEBP")) return image("image/webp");
  if (ascii(head, 0, "BM") && head.length >= 26) return image("image/bmp");
  if (bytes(head, 0, [0x49, 0x49, 0x2a, 0x00]) || bytes(head, 0, [0x4d, 0x4d, 0x00, 0x2a])) return image("image/tiff");
  if (ascii(head, 4, "ftyp")) {
    const brand = new TextDecoder().decode(head.subarray(8, 12));
    if (IMAGE_FTYP_BRANDS.has(brand)) return image(brand.startsWith("avi") ? "image/avif" : "image/heif");
    return video(brand === "qt  " ? "video/quicktime" : "video/mp4");
  }
  if (ascii(head, 0, "RIFF") && ascii(head, 8, "AVI ")) return video("video/x-msvideo");
  if (bytes(head, 0, [0x1a, 0x45, 0xdf, 0xa3])) return video("video/x-matroska");
  if (bytes(head, 0, [0x00, 0x00, 0x01, 0xba]) || bytes(head, 0, [0x00, 0x00, 0x01, 0xb3])) return video("video/mpeg");
  if (head[0] === 0x47 && head.length > 188 && head[188] === 0x47) return video("video/mp2t");
  if (ascii(head, 0, "FLV")) return video("video/x-flv");
  if (bytes(head, 0, [0x30, 0x26, 0xb2, 0x75, 0x8e, 0x66, 0xcf, 0x11])) return video("video/x-ms-asf");
  if (ascii(head, 0, "OggS")) return video("video/ogg");
  return undefined;
}

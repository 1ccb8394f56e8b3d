/**
 * Recognises well-known image signatures so an unreadable file can be reported as
 * "a BMP, which this build cannot read" rather than "not an image". Only the formats libvips
 * (as shipped with sharp) lacks, or may lack, are listed; readable ones never get here.
 */
const SIGNATURES: ReadonlyArray<[name: string, test: (b: Buffer) => boolean]> = [
  ['BMP', (b) => b.toString('latin1', 0, 2) === 'BM' && b.length >= 14],
  ['Photoshop PSD', (b) => b.toString('latin1', 0, 4) === '8BPS'],
  ['JPEG XL', (b) => (b[0] === 0xff && b[1] === 0x0a) || b.toString('latin1', 4, 8) === 'JXL '],
  ['JPEG 2000', (b) => b.toString('latin1', 4, 8) === 'jP  ' || (b[0] === 0xff && b[1] === 0x4f && b[2] === 0xff && b[3] === 0x51)],
  ['HEIC/HEIF', (b) => b.toString('latin1', 4, 8) === 'ftyp' && /^(heic|heix|hevc|hevx|mif1|msf1)$/.test(b.toString('latin1', 8, 12))],
  ['ICO', (b) => b[0] === 0 && b[1] === 0 && b[2] === 1 && b[3] === 0],
  ['QOI', (b) => b.toString('latin1', 0, 4) === 'qoif'],
  ['OpenEXR', (b) => b.readUInt32LE(0) === 0x01312f76],
  ['PNM/PPM', (b) => /^P[1-7]\s/.test(b.toString('latin1', 0, 3))],
  ['PDF', (b) => b.toString('latin1', 0, 5) === '%PDF-'],
];

/** The name of a recognised image format for the first bytes of a file, or undefined. */
export function sniffImageFormat(head: Buffer): string | undefined {
  if (head.length < 4) return undefined;
  return SIGNATURES.find(([, test]) => test(head))?.[0];
}

/**
 * @module domain/e164
 * Phone numbers as the platform stores and compares them: E.164 with a leading `+`
 * (ITU-T E.164 §6: at most 15 digits, country code first, never starting with 0).
 */

export const E164_PATTERN = '^\\+[1-9][0-9]{6,14}$';
const E164 = new RegExp(E164_PATTERN);

export function isE164(value: string): boolean {
  return E164.test(value);
}

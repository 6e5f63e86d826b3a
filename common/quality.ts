/** OPC UA StatusCode values used as reading quality. The top two bits carry the severity. */
export const QUALITY_GOOD = 0x00000000;
export const QUALITY_UNCERTAIN = 0x40000000;
export const QUALITY_BAD = 0x80000000;
/** Bad_DecodingError: the payload could not be decoded into a value. */
export const QUALITY_BAD_DECODING_ERROR = 0x80070000;
/** Bad_NoCommunication: the device did not answer. */
export const QUALITY_BAD_NO_COMMUNICATION = 0x80310000;

export type Severity = 'good' | 'uncertain' | 'bad';

export function severityOf(statusCode: number): Severity {
  const top = (statusCode >>> 30) & 0b11;
  if (top === 0) return 'good';
  if (top === 1) return 'uncertain';
  return 'bad';
}

/** Hosted mode's secret store: values encrypted per tenant (AES-256-GCM). */
export { MAX_SECRET_BYTES, SecretCipher } from "./cipher";

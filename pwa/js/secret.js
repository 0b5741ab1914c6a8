// The unlock secret's rule comes from the agency (GET /api/v1/unlock-policy): the numbers
// here are always the server's, so the screen shows and checks what the agency set.
// Digits only is a PIN; anything else is a passphrase. Lengths are counted in code points
// of the NFKC form, which is what the key is derived from.

function measure(secret) { return [...secret.normalize('NFKC')].length; }

export function isPin(secret) { return /^\d+$/.test(secret); }

/** What the agency accepts, in words for the choose screen. */
export function describe(policy) {
  const phrase = `a passphrase of ${policy.min_passphrase_chars} or more characters`;
  if (!policy.allow_pin) return `Your agency asks for ${phrase} (not only digits).`;
  return `Use a PIN of ${policy.min_pin_digits} or more digits, or ${phrase}.`;
}

export function hint(policy) {
  if (!policy.allow_pin) return `At least ${policy.min_passphrase_chars} characters; a few unrelated words are easy to type`;
  return `At least ${policy.min_pin_digits} digits, not a run like 123456`;
}

/** null when the secret meets the policy, otherwise what is wrong, in plain words. */
export function problem(secret, policy) {
  const n = measure(secret);
  if (isPin(secret)) {
    if (!policy.allow_pin) return `Your agency asks for a passphrase, not a PIN: use ${policy.min_passphrase_chars} or more characters, not only digits.`;
    if (n < policy.min_pin_digits) return `A PIN must be at least ${policy.min_pin_digits} digits.`;
    if (/^(\d)\1+$/.test(secret) || '01234567890123456789'.includes(secret) || '98765432109876543210'.includes(secret)) {
      return 'Choose a PIN that is not a run or a repeated digit.';
    }
    return null;
  }
  if (n < policy.min_passphrase_chars) {
    return `A passphrase must be at least ${policy.min_passphrase_chars} characters${policy.allow_pin ? ` (or use a PIN of ${policy.min_pin_digits} or more digits)` : ''}.`;
  }
  if (new Set(secret).size === 1) return 'Choose a passphrase that is not one character repeated.';
  return null;
}

// GS1 element strings as a keyboard-wedge barcode scanner types them:
// either with the application identifiers in brackets ("(01)0950600013435 2(10)ABC")
// or raw, with the FNC1 separator as the group-separator character (ASCII 29)
// after each variable-length field. Only the identifiers the hub uses are read;
// any other one ends the parse with an error naming it.

const GS = "\u001d";

/** Application identifier -> {name, length (fixed) or max (variable), kind}. */
export const AIS = {
  "00": { name: "sscc", length: 18, kind: "digits" },
  "01": { name: "gtin", length: 14, kind: "digits" },
  "10": { name: "batch", max: 20, kind: "text" },
  "17": { name: "expiry", length: 6, kind: "date" },
  "37": { name: "count", max: 8, kind: "int" },
};

/** A GS1 check digit over all digits but the last is the last digit. */
export function checkDigitOk(digits) {
  if (!/^\d+$/.test(digits)) return false;
  let sum = 0;
  const body = digits.slice(0, -1);
  for (let i = 0; i < body.length; i++) {
    const d = Number(body[body.length - 1 - i]);
    sum += i % 2 === 0 ? d * 3 : d;
  }
  return (10 - (sum % 10)) % 10 === Number(digits[digits.length - 1]);
}

/** YYMMDD -> YYYY-MM-DD (GS1: years 00-49 are 20xx, else 19xx; day 00 is the month's last day). */
function expiryDate(yymmdd) {
  const yy = Number(yymmdd.slice(0, 2));
  const mm = Number(yymmdd.slice(2, 4));
  let dd = Number(yymmdd.slice(4, 6));
  const year = yy < 50 ? 2000 + yy : 1900 + yy;
  if (mm < 1 || mm > 12) return null;
  const last = new Date(Date.UTC(year, mm, 0)).getUTCDate();
  if (dd === 0) dd = last;
  if (dd > last) return null;
  return `${year}-${String(mm).padStart(2, "0")}-${String(dd).padStart(2, "0")}`;
}

function convert(ai, raw) {
  const spec = AIS[ai];
  if (spec.length && raw.length !== spec.length) return { error: `(${ai}) needs ${spec.length} characters, got ${raw.length}` };
  if (spec.max && (raw.length === 0 || raw.length > spec.max)) return { error: `(${ai}) takes 1 to ${spec.max} characters, got ${raw.length}` };
  if (spec.kind === "digits") {
    if (!checkDigitOk(raw)) return { error: `(${ai}) ${raw}: wrong check digit` };
    return { value: raw };
  }
  if (spec.kind === "int") {
    if (!/^\d+$/.test(raw)) return { error: `(${ai}) ${raw}: not a whole number` };
    return { value: Number(raw) };
  }
  if (spec.kind === "date") {
    const date = /^\d{6}$/.test(raw) ? expiryDate(raw) : null;
    return date ? { value: date } : { error: `(${ai}) ${raw}: not a date YYMMDD` };
  }
  return { value: raw };
}

/**
 * Parses a scanned element string. Returns {gtin?, batch?, expiry?, count?, sscc?, errors: []}.
 * Never throws.
 */
export function parseGs1(text) {
  const out = { errors: [] };
  let s = String(text ?? "")
    .replace(/^\](C1|e0|d2|Q3)/, "") // symbology identifier some scanners prefix
    .replace(/[\r\n]+$/g, "")
    .trim();
  if (!s) {
    out.errors.push("empty scan");
    return out;
  }
  const put = (ai, raw) => {
    const r = convert(ai, raw);
    if (r.error) out.errors.push(r.error);
    else out[AIS[ai].name] = r.value;
  };
  if (s.startsWith("(")) {
    const re = /\((\d{2,4})\)([^(]*)/g;
    let m;
    let seen = 0;
    while ((m = re.exec(s))) {
      seen += m[0].length;
      const ai = m[1];
      if (!AIS[ai]) {
        out.errors.push(`(${ai}) is not read by the hub`);
        continue;
      }
      put(ai, m[2].replace(new RegExp(GS, "g"), "").trim());
    }
    if (seen !== s.length) out.errors.push(`unreadable text: ${s}`);
    return out;
  }
  let i = 0;
  while (i < s.length) {
    if (s[i] === GS) {
      i += 1;
      continue;
    }
    const ai = s.slice(i, i + 2);
    const spec = AIS[ai];
    if (!spec) {
      out.errors.push(`(${ai}) is not read by the hub`);
      return out;
    }
    i += 2;
    let raw;
    if (spec.length) {
      raw = s.slice(i, i + spec.length);
      i += spec.length;
    } else {
      const end = s.indexOf(GS, i);
      raw = end < 0 ? s.slice(i) : s.slice(i, end);
      i = end < 0 ? s.length : end + 1;
    }
    put(ai, raw);
  }
  return out;
}

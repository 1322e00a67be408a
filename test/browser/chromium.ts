/**
 * Debian's Chromium, headless, driven by playwright-core (which downloads no
 * browser of its own). The flags keep a sandboxed CI machine quiet: no
 * sandbox (we run as root), no GPU, and no background connections, which a
 * machine without a network would refuse many times over.
 */
import { existsSync } from "node:fs";
import { chromium, type Browser } from "playwright-core";

/** Where the browser is: CHROMIUM_PATH, or Debian's package. */
export const CHROMIUM = process.env["CHROMIUM_PATH"] ?? "/usr/bin/chromium";

/** Starts headless Chromium; throws with the fix when it is not installed. */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: run npm run setup:browser (apt-get install chromium)`);
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
}

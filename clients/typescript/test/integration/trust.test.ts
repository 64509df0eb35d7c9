// Trusted devices through the client, against a real node: the client keeps the secret each
// sign-in answers and sends it with the next one, so a device stays one trusted device.
import { describe, expect, it } from "vitest";

import { Api } from "../../src/index.js";
import { NODE_1, signUp } from "./people.js";

describe("trusted devices", () => {
  it("Ana's phone signs in again as the device her account trusts; a new laptop is another", async () => {
    const ana = await signUp("Ana");
    const password = "correct horse battery staple";
    await ana.api.signIn({ email: ana.user.email, password, platform: "ios" });
    const once = await ana.api.trustedDevices();
    expect(once.map((d) => [d.current, d.platform])).toEqual([[true, "ios"]]);

    const laptop = new Api({ baseUrl: NODE_1 });
    await laptop.signIn({ email: ana.user.email, password, platform: "web" });
    const both = await laptop.trustedDevices();
    expect(both.map((d) => [d.id, d.current])).toEqual([
      [once[0]?.id, false],
      [expect.any(String), true],
    ]);

    await ana.api.forgetTrustedDevice(both[1]?.id ?? "");
    expect((await ana.api.trustedDevices()).map((d) => d.id)).toEqual([once[0]?.id]);
  });
});

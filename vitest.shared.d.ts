import type { ViteUserConfig } from "vitest/config";
/** Settings every package's vitest.config.ts starts from. */
declare const config: ViteUserConfig;
export default config;
//# sourceMappingURL=vitest.shared.d.ts.map
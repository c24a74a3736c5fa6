// Lint runs in `npm test` (issue 20): typescript-eslint's recommended type-checked rules, which
// catch what tsc does not — above all a promise nobody awaits (a store write or a chat post whose
// failure would vanish, or land out of order) and a promise passed where a callback is expected.
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["dist/**", "node_modules/**", "data/**", "**/*.mjs"] },
  {
    files: ["**/*.ts"],
    extends: [tseslint.configs.recommendedTypeChecked],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      // Store methods, adapters' handlers and fakes are async because their interface is (the
      // store is asynchronous so that PostgreSQL can stand behind it); SQLite answers without awaiting.
      "@typescript-eslint/require-await": "off",
      "@typescript-eslint/no-misused-promises": ["error", { checksVoidReturn: false }],
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
    },
  },
  {
    // Tests read JSON from the wire-level fakes and from captured output as it comes (any) and
    // assert on it; typing every payload would restate the fakes. The promise rules stay on.
    files: ["test/**/*.ts", "bench/**/*.ts", "**/*.test.ts"],
    rules: {
      "@typescript-eslint/no-unsafe-assignment": "off",
      "@typescript-eslint/no-unsafe-member-access": "off",
      "@typescript-eslint/no-unsafe-argument": "off",
      "@typescript-eslint/no-unsafe-return": "off",
      "@typescript-eslint/no-unsafe-call": "off",
      "@typescript-eslint/unbound-method": "off",
    },
  },
);

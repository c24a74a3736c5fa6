// Lint runs in `npm test` (issue 20). Type-aware rules that catch what tsc does not: a promise
// nobody awaits (a store write or a chat post whose failure would vanish, or land out of order)
// and a promise passed where a plain callback is expected.
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["dist/**", "node_modules/**", "data/**", "**/*.mjs"] },
  {
    files: ["**/*.ts"],
    extends: [tseslint.configs.base],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/no-misused-promises": ["error", { checksVoidReturn: false }],
      "@typescript-eslint/await-thenable": "error",
      "@typescript-eslint/require-array-sort-compare": "off",
    },
  },
);

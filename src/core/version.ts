/**
 * This package's version, written into card.json and the ONNX files' producer_version. A constant,
 * not read from package.json at run time, so that browsers have it too; test/version.test.ts checks
 * that it matches package.json.
 */
export const PACKAGE_VERSION = '0.1.0';

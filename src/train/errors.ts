export { DataError } from '../core/errors.js';

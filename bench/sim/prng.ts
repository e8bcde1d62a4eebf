/**
 * The simulator uses the engine's PRNG so that one seed reproduces simulated data and trained weights alike.
 * Importing in this direction only (bench -> src) keeps the engine free of simulator code.
 */
export { Prng } from '../../src/learning/prng.js';

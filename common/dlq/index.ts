export * from './config.ts';
export * from './entry.ts';
export * from './errors.ts';
export * from './keys.ts';
export * from './store.ts';

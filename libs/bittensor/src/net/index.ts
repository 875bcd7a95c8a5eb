export * from './address-policy';
export * from './http-exchange';

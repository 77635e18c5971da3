/** Fixed fake credentials and region for the local engines (they accept any). */
export const localRegion = 'us-east-1';
export const localCredentials = { accessKeyId: 'local', secretAccessKey: 'local' };
export const localAccountId = '123456789012';

/** The signed-in API client, handed to pages through React context. */
import { createContext, useContext } from 'react';
import type { ApiClient } from '../api/client.ts';

export const ApiContext = createContext<ApiClient | undefined>(undefined);

export function useApi(): ApiClient {
  const api = useContext(ApiContext);
  if (!api) throw new Error('useApi() outside a signed-in session');
  return api;
}

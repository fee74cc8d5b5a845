/** The app's ApiMetrics instance (created before Nest, as the HTTP middleware and the event store use it too). */
export const API_METRICS = Symbol('API_METRICS');

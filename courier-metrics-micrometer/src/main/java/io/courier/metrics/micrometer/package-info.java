/**
 * Courier's meters on Micrometer ({@link io.courier.metrics.micrometer.CourierMetrics}) and a
 * small admin HTTP server with a Prometheus endpoint
 * ({@link io.courier.metrics.micrometer.AdminServer}).
 */
package io.courier.metrics.micrometer;

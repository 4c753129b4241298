/**
 * Observing calls: the {@link io.courier.observe.CallObserver} SPI that servers, clients and
 * registries report to, for metrics and access logs. Nothing is observed unless an observer is
 * configured.
 */
package io.courier.observe;

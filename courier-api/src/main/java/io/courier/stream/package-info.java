/** Streaming calls: {@link io.courier.stream.StreamObserver} and its flow control. */
package io.courier.stream;

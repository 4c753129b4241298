package io.courier.annotation;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Marks a service method (or every method of an interface) as safe to run more than once with the
 * same arguments: reading, or writing the same value again.
 *
 * <p>Courier then may send such a call again after its request reached a provider: failover also
 * covers a connection lost while the call was in flight ({@code CONNECTION_CLOSED}), and the
 * {@link io.courier.cluster.ClusterPolicy#hedged hedged} and
 * {@link io.courier.cluster.ClusterPolicy#forking forking} policies, which run a call on several
 * providers, are allowed. A method without it runs at most once per call unless a policy that
 * calls every provider ({@code broadcast}) is chosen for it.
 */
@Documented
@Retention(RetentionPolicy.RUNTIME)
@Target({ElementType.METHOD, ElementType.TYPE})
public @interface Idempotent {}

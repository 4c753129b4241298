package io.courier.internal.codec;

import static org.assertj.core.api.Assertions.assertThat;

import io.courier.core.ServiceDescriptor;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

class AllowListTest {

  record Address(String city, List<Tag> tags) {}

  record Tag(String name) {}

  static class Customer {
    Address home;
    Map<String, Order> orders;
    transient Secret cache;
    static Secret shared;
  }

  static class Order extends Base {
    Optional<Item>[] items;
  }

  static class Base {
    long id;
  }

  record Item(int qty) {}

  static class Secret {}

  static class Extra {}

  interface Crm {
    Customer find(String id);

    void save(List<? extends Customer> customers);
  }

  @Test
  void reachableTypesFollowFieldsRecordsGenericsAndSuperclasses() {
    Set<Class<?>> allowed = AllowList.reachable(List.of(ServiceDescriptor.of(Crm.class)),
        Set.of(Extra.class));
    assertThat(allowed).containsExactly(Address.class, Base.class, Customer.class, Extra.class,
        Item.class, Order.class, Tag.class); // sorted by name, JDK types left out
    assertThat(allowed).doesNotContain(Secret.class); // only transient and static paths lead there
  }
}

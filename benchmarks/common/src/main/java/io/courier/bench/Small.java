package io.courier.bench;

import java.io.Serializable;

/**
 * The small object of the {@code small} method: five fields of common types, about 40 bytes on
 * most wires. A plain mutable class with a no-argument constructor, so that every serializer under
 * test (Fory, Hessian, protobuf written by hand, JSON) handles it without special support.
 */
public final class Small implements Serializable {

  private static final long serialVersionUID = 1L;

  public long id;
  public String name;
  public int quantity;
  public double price;
  public boolean active;

  public Small() {}

  public Small(long id, String name, int quantity, double price, boolean active) {
    this.id = id;
    this.name = name;
    this.quantity = quantity;
    this.price = price;
    this.active = active;
  }

  /** The answer the service gives: a copy with {@code quantity + 1}. */
  public Small answer() {
    return new Small(id, name, quantity + 1, price, active);
  }

  public long getId() {
    return id;
  }

  public void setId(long id) {
    this.id = id;
  }

  public String getName() {
    return name;
  }

  public void setName(String name) {
    this.name = name;
  }

  public int getQuantity() {
    return quantity;
  }

  public void setQuantity(int quantity) {
    this.quantity = quantity;
  }

  public double getPrice() {
    return price;
  }

  public void setPrice(double price) {
    this.price = price;
  }

  public boolean isActive() {
    return active;
  }

  public void setActive(boolean active) {
    this.active = active;
  }

  @Override
  public String toString() {
    return "Small[" + id + ", " + name + ", " + quantity + ", " + price + ", " + active + "]";
  }
}

import { ProblemError } from '@bulkhead/problem';

/** Same status and body whether the customer is missing or belongs to another tenant. */
export class CustomerNotFoundProblem extends ProblemError {
  constructor() {
    super(404, 'customer_not_found', 'Customer not found', 'No customer with that id exists.');
  }
}

export class OrderNotFoundProblem extends ProblemError {
  constructor() {
    super(404, 'order_not_found', 'Order not found', 'No order with that id exists.');
  }
}

export class EmailTakenProblem extends ProblemError {
  constructor() {
    super(409, 'customer_email_taken', 'Email taken', 'A customer with that email already exists.');
  }
}

export class CustomerHasOrdersProblem extends ProblemError {
  constructor() {
    super(409, 'customer_has_orders', 'Customer has orders', 'Delete or reassign the customer\'s orders first.');
  }
}

/** An order naming a customer that this tenant does not have, whoever else might. */
export class UnknownCustomerReferenceProblem extends ProblemError {
  constructor() {
    super(422, 'customer_reference_unknown', 'Unknown customer', 'customerId does not name an existing customer.', {
      errors: [{ field: 'customerId', messages: ['customerId does not name an existing customer'] }],
    });
  }
}

export class ExportNotFoundProblem extends ProblemError {
  constructor() {
    super(404, 'export_not_found', 'Export not found', 'No export with that id exists.');
  }
}

export class ExportNotReadyProblem extends ProblemError {
  constructor() {
    super(409, 'export_not_ready', 'Export not ready', 'The export has not completed yet; poll it until its status is completed.');
  }
}

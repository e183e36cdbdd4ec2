import { MantineProvider } from "@mantine/core";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { render } from "@testing-library/react";
import type { ReactElement } from "react";
import { I18nextProvider } from "react-i18next";
import { MemoryRouter } from "react-router";
import i18n from "../lib/i18n";

// A component inside the app's providers (no network: the components under test get their data).
export function testQueryClient(): QueryClient {
  // Data put in the cache by a test stays fresh: nothing is fetched.
  return new QueryClient({ defaultOptions: { queries: { retry: false, staleTime: Infinity } } });
}

// `route`: the URL the component is shown at (its search parameters, e.g. "/?status=dead").
export function renderUi(ui: ReactElement, client: QueryClient = testQueryClient(), route = "/") {
  void i18n.changeLanguage("en");
  return render(
    <I18nextProvider i18n={i18n}>
      <MantineProvider>
        <QueryClientProvider client={client}>
          <MemoryRouter initialEntries={[route]}>{ui}</MemoryRouter>
        </QueryClientProvider>
      </MantineProvider>
    </I18nextProvider>,
  );
}

import "@mantine/core/styles.css";
import { MantineProvider, createTheme } from "@mantine/core";
import { QueryClientProvider } from "@tanstack/react-query";
import type { ReactNode } from "react";
import { I18nextProvider } from "react-i18next";
import { SessionProvider } from "../features/auth/hooks/use-session";
import i18n from "../lib/i18n";
import { queryClient } from "../lib/query-client";

// Darker shades than Mantine's defaults for text on light backgrounds (WCAG AA contrast).
const theme = createTheme({ primaryColor: "blue", primaryShade: 8 });

export function AppProvider({ children }: { children: ReactNode }) {
  return (
    <I18nextProvider i18n={i18n}>
      <MantineProvider theme={theme}>
        <QueryClientProvider client={queryClient}>
          <SessionProvider>{children}</SessionProvider>
        </QueryClientProvider>
      </MantineProvider>
    </I18nextProvider>
  );
}

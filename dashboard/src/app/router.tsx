import { Center, Loader } from "@mantine/core";
import { createBrowserRouter, Outlet, RouterProvider } from "react-router";
import { SignInForm } from "../features/auth/components/sign-in-form";
import { useSession } from "../features/auth/hooks/use-session";
import { HomeRoute, TenantRoute } from "./routes/tenant-root";
import { MessagesRoute, NotFoundRoute, ReservationRoute, ReservationsRoute, TodayRoute } from "./routes/screens";

// Every route needs a session: without one, the sign-in form shows in place, and the same URL
// opens once signed in.
function RequireSession() {
  const { session, loading, signedOutReason } = useSession();
  if (loading)
    return (
      <Center mt="xl" role="status">
        <Loader aria-label="…" />
      </Center>
    );
  if (!session) return <SignInForm reason={signedOutReason} />;
  return <Outlet />;
}

export const routes = [
  {
    element: <RequireSession />,
    children: [
      { path: "/", element: <HomeRoute /> },
      {
        path: "/t/:tenantId",
        element: <TenantRoute />,
        children: [
          { path: "today", element: <TodayRoute /> },
          { path: "reservations", element: <ReservationsRoute /> },
          { path: "reservations/:reservationId", element: <ReservationRoute /> },
          { path: "messages", element: <MessagesRoute /> },
          { path: "*", element: <NotFoundRoute /> },
        ],
      },
      { path: "*", element: <HomeRoute /> },
    ],
  },
];

const router = createBrowserRouter(routes);

export function AppRouter() {
  return <RouterProvider router={router} />;
}

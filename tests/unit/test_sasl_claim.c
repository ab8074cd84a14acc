// SPDX-License-Identifier: BSD-2-Clause
/* The user name a password login claims, read before its check (what
 * failed logins are counted under). */
#include <criterion/criterion.h>
#include <string.h>

#include "broker/sasl_claim.h"

static const char *claim(const char *mech, const char *msg, size_t len)
{
	static char user[256];

	if (!sasl_claimed_user(mech, msg, len, user, sizeof(user)))
		cr_assert_str_eq(user, "", "a failed read leaves no partial name");
	return user;
}

#define LIT(s) (s), (sizeof(s) - 1)

Test(sasl_claim, which_mechanisms_have_passwords)
{
	cr_assert(sasl_mech_has_password("PLAIN"));
	cr_assert(sasl_mech_has_password("digest-md5"));
	cr_assert(sasl_mech_has_password("SCRAM-SHA-256"));
	cr_assert_not(sasl_mech_has_password("ANONYMOUS"));
	cr_assert_not(sasl_mech_has_password("CRAM-MD5"));
}

Test(sasl_claim, plain_takes_the_authcid)
{
	cr_assert_str_eq(claim("PLAIN", LIT("\0alice\0secret")), "alice");
	cr_assert_str_eq(claim("PLAIN", LIT("bob\0alice\0secret")), "alice");
	cr_assert_str_eq(claim("PLAIN", LIT("alice")), "");
	cr_assert_str_eq(claim("PLAIN", LIT("\0alice")), "");
	cr_assert_str_eq(claim("PLAIN", LIT("\0\0secret")), "");
}

Test(sasl_claim, digest_md5_username_directive)
{
	cr_assert_str_eq(claim("DIGEST-MD5", LIT("charset=utf-8,username=\"alice\",realm=\"r\","
						 "nonce=\"n\",response=abc")),
			 "alice");
	/* quoted commas and escapes elsewhere do not confuse it */
	cr_assert_str_eq(claim("DIGEST-MD5", LIT("realm=\"a,username=\\\"eve\\\"\", username = "
						 "\"b\\\"ob\"")),
			 "b\"ob");
	cr_assert_str_eq(claim("DIGEST-MD5", LIT("usernamex=\"eve\",username=\"carol\"")), "carol");
	cr_assert_str_eq(claim("DIGEST-MD5", LIT("realm=\"r\",nonce=\"n\"")), "");
	cr_assert_str_eq(claim("DIGEST-MD5", LIT("username=\"unterminated")), "");
	cr_assert_str_eq(claim("DIGEST-MD5", LIT("username=alice")), "");
}

Test(sasl_claim, scram_client_first)
{
	cr_assert_str_eq(claim("SCRAM-SHA-256", LIT("n,,n=alice,r=abc")), "alice");
	cr_assert_str_eq(claim("SCRAM-SHA-256", LIT("y,a=admin,n=a=2Cb=3Dc,r=x")), "a,b=c");
	cr_assert_str_eq(claim("SCRAM-SHA-256", LIT("n,,r=abc")), "");
	cr_assert_str_eq(claim("SCRAM-SHA-256", LIT("garbage")), "");
}

Test(sasl_claim, long_names_are_cut_and_terminated)
{
	char msg[600], user[16];

	memset(msg, 'a', sizeof(msg));
	msg[0] = '\0';
	msg[sizeof(msg) - 8] = '\0';
	cr_assert(sasl_claimed_user("PLAIN", msg, sizeof(msg), user, sizeof(user)));
	cr_assert_eq(strlen(user), sizeof(user) - 1);
	cr_assert_not(sasl_claimed_user("ANONYMOUS", "x", 1, user, sizeof(user)));
	cr_assert_not(sasl_claimed_user("PLAIN", NULL, 0, user, sizeof(user)));
}
